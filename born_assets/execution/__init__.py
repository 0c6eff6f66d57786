"""The `executed` stage: each lane row's code run against its task's tests in a sandbox."""
