"""What differs between the Pulumi SDK releases we support (README: Supported versions).

`ReadResult` takes the inputs a refresh records only from pulumi 3.216 on; older releases
accept two positional arguments (a third one was a `TypeError` on every `pulumi refresh`) and
their provider server ignores an `inputs` attribute. Setting the attribute works on every
release: the newer servers record the inputs, the older ones keep the inputs from the last
`pulumi up`, which our `diff` does not read (it compares the recorded outputs).
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import ReadResult

#: The first pulumi release whose provider server records the inputs a `read` returns.
READ_INPUTS_SINCE = (3, 216)


def read_result(id_: str, outs: dict[str, Any], inputs: dict[str, Any]) -> ReadResult:
    """A `ReadResult` carrying `inputs`, on any supported SDK."""
    result = ReadResult(id_, outs)
    result.inputs = inputs  # type: ignore[attr-defined, unused-ignore]
    return result
