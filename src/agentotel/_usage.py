"""Token usage a response reported, checked before anything records it.

A token count is a whole number in [0, 2**63-1] (the OTLP integer range). A provider, proxy or
fake server can report anything else: a negative count would lower the cost counter, and one above
int64 makes the OTLP encoder drop the attribute, and a value that is not a whole number (``7.5``,
``"7"``) is no count at all. Such a field is left out of the span, the token
metric, the cost and the agent-round sums; the span names it in ``agentotel.usage.invalid`` and
the call is counted once in ``agentotel.telemetry.errors`` (``error.type=agentotel.InvalidUsage``).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.util.types import AttributeValue

from agentotel import semconv

MAX_TOKENS = 2**63 - 1

USAGE_KEYS = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)


_K0, _K1, _K2, _K3, _K4 = USAGE_KEYS  # read one by one: cheaper than map() over them


class InvalidUsage(ValueError):
    """A response reported usage out of range; ``fields`` names the attributes left out."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"usage out of range, not recorded: {', '.join(fields)}")
        self.fields = fields


def valid_tokens(value: object) -> bool:
    """True for a whole number of tokens in [0, 2**63-1] (``bool`` is not a number of tokens)."""
    return type(value) is int and 0 <= value <= MAX_TOKENS


NOT_A_COUNT = -1
"""What a reported usage value that is not an ``int`` (``7.5``, ``"7"``, ``true``) becomes: a
count out of range, so that :func:`checked` leaves it out and names it like a negative one."""


def reported(value: object) -> int | None:
    """A usage field as a response reported it: None when absent, the number when it is an ``int``,
    else :data:`NOT_A_COUNT` (never silently dropped: the span names it as invalid)."""
    if value is None:
        return None
    return value if type(value) is int else NOT_A_COUNT


def _ok(value: object) -> bool:
    return value is None or (type(value) is int and 0 <= value <= MAX_TOKENS)


def checked(
    attributes: Mapping[str, AttributeValue] | None, input_tokens: int | None, output_tokens: int | None
) -> tuple[Mapping[str, AttributeValue] | None, int | None, int | None, tuple[str, ...]]:
    """``attributes`` without the out-of-range usage attributes and with ``agentotel.usage.invalid``
    naming them, the input and output token counts (None when out of range), and those names."""
    given = attributes or {}
    # The common case first, inline and cheap (every call goes through here): both counts in
    # range, no cache or reasoning usage, the span's input/output usage the same objects as the
    # counts or in range.
    if (
        (input_tokens is None or (input_tokens.__class__ is int and 0 <= input_tokens <= MAX_TOKENS))
        and (output_tokens is None or (output_tokens.__class__ is int and 0 <= output_tokens <= MAX_TOKENS))
        and not (_K2 in given or _K3 in given or _K4 in given)
    ):
        value = given.get(_K0)
        if value is input_tokens or _ok(value):
            value = given.get(_K1)
            if value is output_tokens or _ok(value):
                return attributes, input_tokens, output_tokens, ()
    get = given.get
    for value in (input_tokens, output_tokens, get(_K0), get(_K1), get(_K2), get(_K3), get(_K4)):
        if not _ok(value):
            break
    else:
        return attributes, input_tokens, output_tokens, ()
    counts = {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
    }
    names = tuple(key for key in USAGE_KEYS if not (_ok(given.get(key)) and _ok(counts.get(key))))
    kept = {k: v for k, v in given.items() if k not in names}
    kept[semconv.AGENTOTEL_USAGE_INVALID] = names
    return (
        kept,
        None if semconv.GEN_AI_USAGE_INPUT_TOKENS in names else input_tokens,
        None if semconv.GEN_AI_USAGE_OUTPUT_TOKENS in names else output_tokens,
        names,
    )
