"""The `similarity_index` asset: one MinHash index per release version, for `born similar`."""

import dagster as dg

from born_assets.defs.assets.release import GROUP, RELEASE_KEY, RELEASE_VERSIONS
from born_assets.defs.metadata import column_schema, preview
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.release.similarity_index import build_index
from born_assets.schemas.release import SimilarityIndexRecord
from born_assets.store.memo import code_version
from born_assets.store.unchanged import record

SIMILARITY_INDEX_KEY = dg.AssetKey("similarity_index")


def similarity_index_asset() -> dg.AssetsDefinition:
    """Sign every released row of the partition's release, so similarity queries need no rebuild."""

    @dg.asset(
        key=SIMILARITY_INDEX_KEY,
        deps=[RELEASE_KEY],
        partitions_def=RELEASE_VERSIONS,
        group_name=GROUP,
        kinds={"python", "parquet"},
        owners=["team:release"],
        description=(
            "One row per released example of a release version: its MinHash signature (over "
            "the policy's similarity.index_fields), origin, teacher, family, source line and a "
            "preview, under similarity/<version>/; `born similar` queries it."
        ),
    )
    def _similarity_index(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        version = context.partition_key
        data = warehouse.data
        policy = warehouse.load_policy()
        shards = data.release(version).shards()
        folder = data.similarity_index(version)
        inputs = [*shards, data.release(version).release_json]
        versions = {"code": code_version(), "policy": policy.content_hash}
        unchanged = remembered_result(warehouse, folder.path, inputs, versions)
        if unchanged is not None:
            return unchanged
        info = build_index(
            data,
            version,
            policy,
            warehouse.batch_rows,
            warehouse.worker_count(shards),
        )
        with warehouse.exclusive():
            step = record(folder.path, inputs, versions)
        metadata = {
            "dagster/row_count": info.rows,
            "dagster/column_schema": column_schema(SimilarityIndexRecord),
            "fields": info.fields,
            "num_perm": info.num_perm,
            "shingle_words": info.shingle_words,
            "release_json_sha256": info.release_json_sha256,
            "policy_sha256": info.policy_sha256,
            "preview": preview(
                folder.rows, ["example_id", "origin_id", "teacher_model", "source_line"]
            ),
            "path": dg.MetadataValue.path(str(folder.path)),
        }
        return remember_result(warehouse, folder.path, step, metadata)

    return _similarity_index
