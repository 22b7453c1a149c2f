"""Model prices and the cost of one LLM call.

``prices.json`` (shipped) holds USD per million tokens for input, output, cache read and cache
write for the OpenAI, Anthropic, Gemini API and Amazon Bedrock (Nova) models in current use, each
with ``as_of`` (the day its provider's page was read) and ``source`` (that page); ``aliases`` map
other names to them. An entry naming a ``provider`` prices only the calls of that
``gen_ai.provider.name`` (the same name can cost otherwise elsewhere: Gemini on Vertex AI, Claude
on Bedrock). A call's model name resolves to an entry (see :func:`names`): as given; without a
path (``models/gemini-2.5-flash``, a Bedrock ARN's ``…/amazon.nova-lite-v1:0``); without the US
cross-region inference-profile prefix (``us.amazon.nova-lite-v1:0``: AWS charges such calls at the
source region's price); without a date suffix (``gpt-4o-2024-08-06``,
``claude-opus-4-1-20250805``) or a Gemini version suffix (``gemini-2.5-flash-001``). A model
priced by prompt length (Gemini Pro) has a ``long_prompt`` tier: a call with more input tokens
than its ``above`` is priced wholly at its prices.
``AGENTOTEL_PRICING_FILE`` names a JSON file of the same shape whose models and aliases override
or extend the shipped ones; it is validated when loaded and a bad entry raises
:class:`~agentotel.config.ConfigError` naming the file and the entry.

A model without a price gets no cost, never a guessed one.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from agentotel.config import PRICING_FILE, ConfigError

_PER_TOKEN = 1e-6
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
# A Gemini model version (``gemini-2.5-flash-001``): the same model and price as its base name.
_VERSION_SUFFIX = re.compile(r"-\d{3}$")
# The US geographic cross-region inference profile of Bedrock: charged at the price of the source
# region (a US region). The other geographies (eu., apac., jp., au., us-gov.) and global. cost
# otherwise, so they are not stripped.
_US_PROFILE = "us."
_PRICE_KINDS = ("input", "output", "cache_read", "cache_write")
_METADATA = ("as_of", "source", "provider")
_LONG_PROMPT = "long_prompt"


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens of one model; cache prices default to the input price. ``as_of`` is
    the day the price was read, ``source`` the page it was read on. ``long`` (if any) prices the
    whole of a call whose input tokens exceed ``long_above`` (Gemini Pro above 200K tokens)."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    as_of: str | None = None
    source: str | None = None
    long_above: int = 0
    long: Price | None = None

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
        """USD for one call. ``input_tokens`` includes the cached ones (as ``gen_ai.usage.input_tokens``
        does for both providers here); each cached token is charged at its cache price instead."""
        if self.long is not None and input_tokens > self.long_above:
            return self.long.cost(input_tokens, output_tokens, cache_read, cache_write)
        uncached = max(input_tokens - cache_read - cache_write, 0)
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        total = uncached * self.input + cache_read * read + cache_write * write + output_tokens * self.output
        return total * _PER_TOKEN

    def split(
        self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0
    ) -> tuple[float, float]:
        """USD for the input and for the output of one call: the same two numbers as
        ``cost(input_tokens, 0, cache_read, cache_write)`` and ``cost(0, output_tokens)``, in one
        call, and without cached tokens in a few operations (every priced LLM call comes here)."""
        if self.long is not None and input_tokens > self.long_above:
            return self.long.split(input_tokens, output_tokens, cache_read, cache_write)
        if cache_read or cache_write:
            inputs = self.cost(input_tokens, 0, cache_read, cache_write)
        else:
            # What cost() computes when every other part is 0: the same float (+ 0.0 included).
            inputs = (max(input_tokens, 0) * self.input + 0.0) * _PER_TOKEN
        return inputs, (0.0 + output_tokens * self.output) * _PER_TOKEN


def names(model: str) -> tuple[str, ...]:
    """The names ``model`` is looked up under, in order: as given; after its last ``/`` (a path
    such as ``models/…`` or ``publishers/google/models/…``, a Bedrock ARN); that without the
    ``us.`` inference-profile prefix; each without a date suffix or a 3-digit version suffix."""
    base = model.rsplit("/", 1)[-1]
    if base.startswith(_US_PROFILE):
        base = base[len(_US_PROFILE) :]
    found = [model]
    for name in (base, _DATE_SUFFIX.sub("", base), _VERSION_SUFFIX.sub("", base)):
        if name not in found:
            found.append(name)
    return tuple(found)


class PriceTable:
    """Prices by model name (and provider), with aliases and snapshot resolution."""

    def __init__(
        self,
        models: Mapping[str, Price],
        aliases: Mapping[str, str],
        providers: Mapping[str, str] | None = None,
    ) -> None:
        self.models = dict(models)
        self.aliases = dict(aliases)
        # The provider an entry is limited to (entries without one price every provider's calls).
        self.providers = dict(providers or {})
        self._resolved: dict[tuple[str, str | None], Price | None] = {}

    def lookup(self, model: str, provider: str | None = None) -> Price | None:
        """The price of ``model`` in a call of ``provider`` (None: of any provider): the first of
        :func:`names` that is a model or an alias of one priced for that provider."""
        key = (model, provider)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        found = self._find(model, provider)
        if len(self._resolved) < 4096:
            self._resolved[key] = found
        return found

    def _find(self, model: str, provider: str | None) -> Price | None:
        for name in names(model):
            target = name if name in self.models else self.aliases.get(name)
            if target is None or target not in self.models:
                continue
            scope = self.providers.get(target)
            if provider is None or scope is None or scope == provider:
                return self.models[target]
        return None


def _price(
    entry: Any, where: str, fields: tuple[str, ...] = (*_PRICE_KINDS, *_METADATA, _LONG_PROMPT)
) -> Price:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected an object with input/output prices, got {entry!r}")
    unknown = set(entry) - set(fields)
    if unknown:
        accepted = ", ".join(fields)
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; accepted: {accepted}")
    values: dict[str, float | None] = {}
    for kind in _PRICE_KINDS:
        value = entry.get(kind)
        required = kind == "input"
        if value is None and not required:
            values[kind] = None
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise ConfigError(
                f"{where}.{kind}: expected a price in USD per million tokens (a number >= 0), got {value!r}"
            )
        values[kind] = float(value)
    output = values["output"] if values["output"] is not None else 0.0  # embeddings have no output
    as_of = entry.get("as_of")
    if as_of is not None and not isinstance(as_of, str):
        raise ConfigError(f"{where}.as_of: expected a date string, got {as_of!r}")
    source = entry.get("source")
    if source is not None and not isinstance(source, str):
        raise ConfigError(f"{where}.source: expected the URL of the price's page, got {source!r}")
    prices = (values["cache_read"], values["cache_write"])
    long_above, long = _long_prompt(entry.get(_LONG_PROMPT), f"{where}.{_LONG_PROMPT}")
    return Price(float(values["input"] or 0.0), output, *prices, as_of, source, long_above, long)


def _long_prompt(entry: Any, where: str) -> tuple[int, Price | None]:
    """``long_prompt``: ``above`` (input tokens) and the prices of a call above it."""
    if entry is None:
        return 0, None
    above = entry.get("above") if isinstance(entry, Mapping) else None
    if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
        raise ConfigError(
            f"{where}: expected an object with 'above' (a number of input tokens > 0) and prices,"
            f" got {entry!r}"
        )
    rest = {k: v for k, v in entry.items() if k != "above"}
    return above, _price(rest, where, _PRICE_KINDS)


def parse(data: Any, source: str) -> PriceTable:
    """A table from the JSON shape of ``prices.json``; :class:`ConfigError` names a bad entry."""
    if not isinstance(data, Mapping) or not isinstance(data.get("models", {}), Mapping):
        raise ConfigError(f"{source}: expected an object with a 'models' object")
    models = {
        str(name): _price(entry, f"{source}: models[{name!r}]")
        for name, entry in data.get("models", {}).items()
    }
    aliases = data.get("aliases", {})
    if not isinstance(aliases, Mapping) or not all(isinstance(v, str) for v in aliases.values()):
        raise ConfigError(f"{source}: 'aliases' must map names to model names")
    providers = {}
    for name, entry in data.get("models", {}).items():
        provider = entry.get("provider")
        if provider is None:
            continue
        if not isinstance(provider, str):
            raise ConfigError(
                f"{source}: models[{name!r}].provider: expected a gen_ai.provider.name, got {provider!r}"
            )
        providers[str(name)] = provider
    return PriceTable(models, {str(k): v for k, v in aliases.items()}, providers)


def _shipped() -> PriceTable:
    text = resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8")
    return parse(json.loads(text), "prices.json")


def load(path: str | None) -> PriceTable:
    """The shipped table, overridden and extended by the JSON file at ``path`` (if any)."""
    table = _shipped()
    if not path:
        return table
    where = f"{PRICING_FILE}={path}"
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON: {exc}") from exc
    extra = parse(data, where)
    for alias, target in extra.aliases.items():
        if target not in extra.models and target not in table.models:
            raise ConfigError(f"{where}: aliases[{alias!r}] names an unknown model {target!r}")
    # An override entry replaces the shipped one, provider included (none: every provider).
    providers = {name: p for name, p in table.providers.items() if name not in extra.models}
    return PriceTable(
        {**table.models, **extra.models}, {**table.aliases, **extra.aliases}, {**providers, **extra.providers}
    )


_lock = threading.Lock()
_tables: dict[str | None, PriceTable] = {}


def table_for(path: str | None) -> PriceTable:
    """:func:`load`, once per path in the process."""
    with _lock:
        table = _tables.get(path)
        if table is None:
            table = _tables[path] = load(path)
        return table


__all__ = ["Price", "PriceTable", "load", "names", "parse", "table_for"]
