"""The command registry: functions become ``Command`` objects that bind and validate arguments.

A parameter is either an *argument*, sent by the frontend by name and validated with pydantic
from its type hint (camelCase keys are accepted for snake_case names), or an *injection*,
filled by the core from its annotation: the calling window, the app, managed state, the
permission scope, a channel.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import itertools
import logging
import re
import types
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    FailFast,
    Field,
    Strict,
    ValidationError,
    create_model,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic.types import EncodedBytes, EncodedStr

from .acl.permissions import command_permissions
from .channel import Channel
from .errors import InvalidArgs

__all__ = ["Command", "Injector", "Registry", "UnusableCommand"]

log = logging.getLogger("app.core.commands")

COMMAND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?")

Injector = Callable[[Any], Any]
"""Given the call's context, produce the value of an injected parameter."""


_SCALARS = (str, int, float, bool, bytes)
_PLAIN_TYPES = {*_SCALARS, list, dict, tuple, set, frozenset, object, type(None)}
_SEQUENCES = {list, set, frozenset, tuple}
_MAPPINGS = {dict, collections.OrderedDict, collections.abc.Mapping,
             collections.abc.MutableMapping}
_CONTAINERS = {
    *_SEQUENCES, *_MAPPINGS, typing.Union, types.UnionType, collections.deque,
    collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Set,
    collections.abc.MutableSet,
}
_AS_LISTS = {collections.abc.Iterable, collections.abc.Collection}
"""Taken as lists: pydantic checks an ``Iterable``'s values only as the command reads them
(one that does not fit failed the command, not the call), and a ``Collection``'s not at all."""


class _FailFast(FailFast):
    """pydantic's ``FailFast``, hashable: ``Union[...]`` hashes what it is made of, and an
    ``Optional[list[int]]`` made strict has one inside."""

    def __hash__(self) -> int:
        return hash((type(self), self.fail_fast))


def strict_scalars(annotation: Any) -> Any:
    """``annotation`` with its plain scalars strict, through lists, dicts, tuples, their
    abstract kinds (``Sequence``, ``Mapping``...) and unions: ``str`` takes only text (not
    bytes), ``int`` only integers (not "7" or true), ``bool`` only true/false. What a page sent
    is then what the command gets, which is also what an isolation hook saw. Other types
    (models, dates, enums...) keep pydantic's usual conversions, and so do a mapping's keys:
    JSON's are always text, and a ``dict[int, str]`` takes ``{"1": "a"}``."""
    if annotation in _SCALARS:
        return Annotated[annotation, Strict()]
    if annotation in (bytearray, memoryview):  # (as bytes: pydantic would want the very type)
        return Annotated[bytes, Strict(), AfterValidator(annotation)]
    if isinstance(annotation, typing.NewType):  # UserId = NewType("UserId", int)
        return strict_scalars(annotation.__supertype__)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _AS_LISTS and len(args) == 1:
        return strict_scalars(list[args[0]])  # type: ignore[valid-type]
    if origin is Annotated:
        if any(isinstance(m, (EncodedBytes, EncodedStr)) for m in annotation.__metadata__):
            return annotation  # Base64Bytes and the like decode text: their own rule
        return Annotated[(strict_scalars(args[0]), *annotation.__metadata__)]
    if origin in _CONTAINERS and args:
        inner = tuple(a if a is Ellipsis or (origin in _MAPPINGS and i == 0)
                      else strict_scalars(a) for i, a in enumerate(args))
        if origin in (typing.Union, types.UnionType):
            return typing.Union[inner]  # noqa: UP007 (built from a tuple)
        if isinstance(annotation, types.GenericAlias):  # list[str]
            rebuilt = types.GenericAlias(origin, inner)
        elif hasattr(annotation, "copy_with"):  # typing.List[str]
            rebuilt = annotation.copy_with(inner)
        else:
            return annotation
        # A sequence stops at its first value that does not fit: pydantic holds the core's
        # loop while it goes through the others (0.3 s for a million), to say the same thing.
        return Annotated[rebuilt, _FailFast()] if origin in _SEQUENCES else rebuilt
    return annotation


_JSON_KINDS = {str: "text", list: "an array", int: "a number", float: "a number",
               bool: "true or false", bytes: "binary data"}
"""What a page sent, said in its own terms."""

LISTED_PROBLEMS = 1000
"""The most problems with a call's arguments that are worked out one by one (its message lists
the first ten, its data the first hundred)."""


class UnusableCommand(TypeError):
    """A command whose arguments cannot be validated, found as the app starts (or is checked):
    its arguments' model is built once the types the app manages are known."""


class _ArgsBase(BaseModel):
    # A page may name the parameter ``first_number`` as ``firstNumber``; both are accepted. The
    # camelCase name is each parameter's own alias, not an alias generator of this config: the
    # dataclasses and TypedDicts inside the arguments take this config as theirs, and would
    # take camelCase keys too, which an isolation hook that checks their fields would not see.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


@dataclass
class Command:
    """A registered command: its function, its arguments model and its injected parameters."""

    name: str
    func: Callable[..., Any]
    is_async: bool
    hints: dict[str, Any]
    signature: inspect.Signature
    doc: str = ""
    _model: type[BaseModel] | None = field(default=None, repr=False)
    _injected: dict[str, type] = field(default_factory=dict, repr=False)
    _inject_types: frozenset[type] = field(default=frozenset(), repr=False)
    _model_names: dict[str, str] = field(default_factory=dict, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        name: str | None = None,
        namespace: tuple[types.CodeType, Mapping[str, Any]] | None = None,
    ) -> Command:
        """The command ``func`` makes. ``namespace``: the function that registers it (its code)
        and that function's names, for hints that name classes defined in it."""
        if not callable(func):
            raise TypeError(f"a command must be a function, not {type(func).__name__}")
        if name is None:
            name = getattr(func, "__name__", None)
            if not isinstance(name, str):
                raise ValueError(
                    f"{func!r} has no name of its own: register it with "
                    "@app.command(name=...)"
                )
        if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name):
            raise ValueError(
                f"command name {name!r} must be an identifier (ASCII letters, digits, _), with at "
                "most one prefix before a ':', as in 'files:read'"
            )
        signature = inspect.signature(func)
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                raise TypeError(
                    f"command {name!r}: parameter {param.name!r} must be a named parameter "
                    "(no *args, **kwargs or positional-only parameters)"
                )
        unwrapped = inspect.unwrap(_target(func))
        if inspect.isasyncgenfunction(unwrapped) or inspect.isgeneratorfunction(unwrapped):
            what = "an async generator" if inspect.isasyncgenfunction(unwrapped) else "a generator"
            raise TypeError(
                f"command {name!r} is {what}, and a command answers once: return the values as "
                "a list, or send them one by one on a Channel parameter"
            )
        target = _target(func)
        # A function defined inside the function that registers it names that one's classes;
        # any other names its module's, and only them (a function registered from another
        # than its own would take a class of the same name there for its own).
        # (Its code is one of that function's constants; a name would not tell two functions
        # of one name, in two modules, apart.)
        code = getattr(target, "__code__", None)
        local = namespace[1] if namespace and code in namespace[0].co_consts else None
        try:
            hints = typing.get_type_hints(target, localns=local, include_extras=True)
        except Exception as exc:
            raise TypeError(f"command {name!r}: cannot resolve its type hints: {exc}") from exc
        hints.pop("return", None)
        for param in signature.parameters.values():
            if param.default is param.empty and _is_callable(hints.get(param.name)):
                raise TypeError(
                    f"command {name!r}: parameter {param.name!r} takes a function, which a "
                    "page cannot send (JSON has none); give it a default, or take a name "
                    "the command looks up"
                )
        keys: dict[str, str] = {}
        for pname in signature.parameters:
            # Only an injected value (annotated with its class) may have such a name.
            kind = _injectable(hints.get(pname))
            if pname.startswith("_") and (kind is None or kind in _PLAIN_TYPES):
                raise TypeError(_private(name, pname))
            if pname.startswith("model_") and (kind is None or kind in _PLAIN_TYPES):
                raise TypeError(
                    f"command {name!r}: parameter {pname!r} cannot be an argument: pydantic "
                    "keeps names starting with 'model_' for itself; rename it"
                )
            for key in {pname, to_camel(pname)}:
                if key in keys:
                    raise TypeError(
                        f"command {name!r}: parameters {keys[key]!r} and {pname!r} would both "
                        f"take the page's key {key!r} (camelCase keys are accepted for "
                        "snake_case names); rename one"
                    )
                keys[key] = pname
        return cls(
            name=name,
            func=func,
            is_async=is_async(func),
            hints=hints,
            signature=signature,
            doc=inspect.getdoc(func) or "",
        )

    def prepare(self, inject_types: frozenset[type]) -> None:
        """(Re)build the arguments model once the injectable types are known."""
        if self._model is not None and (
            inject_types is self._inject_types or inject_types == self._inject_types
        ):
            return
        fields: dict[str, Any] = {}
        injected: dict[str, type] = {}
        for pname, param in self.signature.parameters.items():
            annotation = self.hints.get(pname, Any)
            kind = _injectable(annotation)
            if kind is not None and kind in inject_types:
                injected[pname] = kind
                continue
            if pname.startswith("_"):
                raise UnusableCommand(_private(self.name, pname))
            try:
                checked = strict_scalars(annotation)
            except Exception as exc:  # (no such type should remain; one would stop the start)
                raise UnusableCommand(
                    f"command {self.name!r}: the type of its parameter {pname!r} cannot be "
                    f"used: {type(exc).__name__}: {exc}"
                ) from exc
            camel = to_camel(pname)
            if camel != pname and not _aliased(annotation):
                checked = Annotated[checked, Field(validation_alias=camel)]
            # With no default of the function's own, one in an Annotated Field(default=...)
            # stands (given as the field's default, ``...`` would make it required).
            fields[pname] = checked if param.default is param.empty else (checked, param.default)
        try:
            with warnings.catch_warnings():
                # A parameter named json, copy, schema...: the name of a BaseModel method,
                # which pydantic warns of; the model is the core's own, and never used so.
                warnings.filterwarnings("ignore", "Field name .* shadows an attribute",
                                        UserWarning)
                model = create_model(f"{self.name}_args", __base__=_ArgsBase, **fields)
            if not model.__pydantic_complete__:
                # A model among the arguments names a type that does not exist (a misspelt
                # forward reference): found now, as the app starts, not at every call.
                model.model_rebuild(raise_errors=True)
        except Exception as exc:  # a type pydantic cannot validate (a typing.TypedDict on 3.11)
            why = str(exc).split("\n\n")[0]  # (not pydantic's link to its docs)
            raise UnusableCommand(
                f"command {self.name!r}: its arguments cannot be validated from their type "
                f"hints: {why}"
            ) from exc
        self._model, self._injected, self._inject_types = model, injected, inject_types
        self._model_names = {to_camel(name): name for name in fields}

    @property
    def model(self) -> type[BaseModel]:
        assert self._model is not None, "Registry.prepare() was not called"
        return self._model

    @property
    def injected(self) -> Mapping[str, type]:
        return self._injected

    @property
    def permission(self) -> str:
        """The permission that allows it: ``allow-read-file``, ``files:allow-read``."""
        return command_permissions(self.name)[0]

    def bind(self, args: Any, context: Any, injectors: Mapping[type, Injector]) -> dict[str, Any]:
        """Validate the frontend's ``args`` and add the injected values; raise ``InvalidArgs``."""
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise InvalidArgs(
                f"The arguments of '{self.name}' must be an object of named values, "
                f"not {_JSON_KINDS.get(type(args), type(args).__name__)}.",
                [{"field": None, "message": "expected an object"}],
            )
        self._few_unknown(args)
        try:
            validated = self.model.model_validate(args)
        except ValidationError as exc:
            count = exc.error_count()
            if count > LISTED_PROBLEMS:
                # pydantic makes each one a dict on the core's loop (2 s for a million).
                where = self._only_argument(args)
                raise InvalidArgs(
                    f"Invalid arguments for '{self.name}': {count} problems, too many to list "
                    + (f"({where} holds many values that do not fit it)." if where else
                       "(an argument holds many values that do not fit it)."),
                    [{"field": where, "message": f"{count} problems"}],
                ) from None
            errors = exc.errors(include_url=False)
            problems = [self._problem(e, args) for e in errors[:100]]
            # A caller's many wrong keys make one message each: name the first few only.
            summary = "; ".join(f"{str(p['field'])[:80]}: {p['message']}" for p in problems[:10])
            if count > 10:
                summary += f"; and {count - 10} more"
            raise InvalidArgs(
                f"Invalid arguments for '{self.name}': {summary}.", problems
            ) from None
        bound = dict(validated.__dict__)  # the fields' values, by their Python names
        for pname, ptype in self._injected.items():
            bound[pname] = injectors[ptype](context)
        return bound

    def _only_argument(self, args: dict[str, Any]) -> str | None:
        """The one argument sent, as the page named it, when every parameter it must send is
        that one: the one the problems are in (``None`` otherwise, where they may be in any)."""
        if len(args) != 1:
            return None
        key = next(iter(args))
        name = self._model_names.get(key, key)
        required = [n for n, f in self.model.model_fields.items() if f.is_required()]
        return str(key) if name in self._model_names.values() and required in ([], [name]) \
            else None

    def _few_unknown(self, args: dict[str, Any]) -> None:
        """Raise ``InvalidArgs`` for arguments with many keys no parameter takes: named by
        pydantic, a million of them held the core's loop for seconds (it validated every one,
        and made an error of each); counted here, with the first few named."""
        if len(args) <= LISTED_PROBLEMS:
            return
        known = self._model_names.keys() | self._model_names.values()
        unknown = len(args) - sum(1 for key in known if key in args)
        if unknown <= LISTED_PROBLEMS:
            return
        first = list(itertools.islice((k for k in args if k not in known), 5))
        raise InvalidArgs(
            f"Invalid arguments for '{self.name}': {unknown} keys it takes no parameter of "
            f"({', '.join(repr(str(k)[:40]) for k in first)}...); its parameters are "
            f"{', '.join(sorted(self._model_names.values())) or 'none'}.",
            [{"field": str(k)[:80], "message": "Extra inputs are not permitted"} for k in first],
        )

    def _problem(self, error: Any, args: dict[str, Any]) -> dict[str, Any]:
        """One validation error as the page gets it: the field as the page named it (or, when
        it is missing, by its camelCase name), and its Python name beside a camelCase one."""
        loc, message = error["loc"], error["msg"]
        first = loc[0] if loc else None
        if isinstance(first, str):
            name = self._model_names.get(first, first)  # the Python name of a camelCase key
            alias = to_camel(name)
            if (
                error["type"] == "extra_forbidden"
                and first in self._model_names.values()  # a parameter's own (Python) name
                and alias != first
                and alias in args
            ):
                message = f"given twice, as {first} and as {alias}; send one of them"
            elif first != name:
                message = f"{message} (the parameter {name})"
            kind = _injectable(self.hints.get(name))
            if error["type"] == "missing" and len(loc) == 1 and kind is Channel:
                message += (" (a Channel, which the page makes: new Channel((message) => ...) "
                            "in invoke's arguments)")
            elif (error["type"] in ("missing", "is_instance_of") and len(loc) == 1
                  and _may_be_state(kind)):
                assert kind is not None
                # The page's message, and the log's (whose reader can fix it). A page's value
                # in its place (what JSON makes is never an instance of it) is told the same.
                message += (
                    f" (of type {kind.__name__}: if the command should get the app's own, call "
                    f"app.manage({kind.__name__}(...)) before the app runs)"
                )
                # Logged once: a page may call it again and again.
                if error["type"] == "missing" and name not in self._warned:
                    self._warned.add(name)
                    log.warning("command %r was called without %r: %s", self.name, name,
                                message)
        return {"field": ".".join(str(p) for p in loc) or None, "message": message}

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: name, permission, arguments schema, docstring."""
        schema = self.model.model_json_schema(by_alias=True)
        return {
            "name": self.name,
            "permission": self.permission,
            "async": self.is_async,
            "doc": self.doc,
            "args": schema,
            "injected": {k: v.__name__ for k, v in self._injected.items()},
            "signature": f"{self.name}{self.signature}",
        }


def _injectable(annotation: Any) -> type | None:
    """The class a parameter is annotated with, through ``Annotated[X, ...]`` and ``X | None``
    (``Window``, ``Optional[Store]``...): what an injector may fill. None for anything else."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _injectable(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _injectable(members[0]) if len(members) == 1 else None
    found = origin or annotation
    return found if isinstance(found, type) else None


def _is_callable(annotation: Any) -> bool:
    """Whether a parameter's type hint is a function's (``Callable[...]``, maybe Optional)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_callable(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return len(members) == 1 and _is_callable(members[0])
    return annotation is collections.abc.Callable or origin is collections.abc.Callable


def _aliased(annotation: Any) -> bool:
    """Whether ``annotation`` gives its parameter a name of its own for the page,
    ``Annotated[int, Field(alias="uid")]``: then it takes that, not its camelCase name."""
    if typing.get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(m, FieldInfo) and (m.alias or m.validation_alias)
               for m in annotation.__metadata__)


def _may_be_state(kind: type | None) -> bool:
    """Whether a parameter of class ``kind`` may be state the app meant to manage: a class of
    its own, not a JSON-like value, model, enum or date that pages send."""
    return (
        kind is not None
        and kind not in _PLAIN_TYPES
        and kind.__module__ not in ("builtins", "datetime", "decimal", "uuid", "pathlib",
                                    "ipaddress", "typing", "collections")
        and not issubclass(kind, (BaseModel, enum.Enum, dict, list, tuple, str, int, float,
                                  bytes))  # (TypedDicts and NamedTuples among them)
    )


def _target(func: Callable[..., Any]) -> Any:
    """The function that says what a command is: a ``functools.partial``'s function (for what
    is left of it), an object's ``__call__``, or the function itself."""
    target = func.func if isinstance(func, functools.partial) else func
    if inspect.isroutine(target) or isinstance(target, type):
        return target
    return type(target).__call__


def is_async(func: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one (or a partial of either):
    what the core runs on its loop (a command, an event's listener, an on_start function)."""
    return inspect.iscoroutinefunction(_target(func))


def _private(command: str, parameter: str) -> str:
    return (
        f"command {command!r}: parameter {parameter!r} cannot be an argument: pydantic keeps "
        "names starting with '_' private; rename it"
    )


class Registry:
    """Commands by name, plus the injectors that fill non-argument parameters."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self.injectors: dict[type, Injector] = {}
        self._inject_types: frozenset[type] = frozenset()

    def add(self, command: Command) -> Command:
        if command.name in self._commands:
            raise ValueError(f"a command named {command.name!r} is already registered")
        self._commands[command.name] = command
        return command

    def _types(self) -> frozenset[type]:
        # Injectors are only ever added (app.manage), so a size change is a change.
        if len(self._inject_types) != len(self.injectors):
            self._inject_types = frozenset(self.injectors)
        return self._inject_types

    def prepare_all(self) -> None:
        """Build every command's arguments model now, not on its first call."""
        for command in self._commands.values():
            command.prepare(self._types())

    def get(self, name: str) -> Command | None:
        command = self._commands.get(name)
        if command is not None:
            command.prepare(self._types())
        return command

    def __iter__(self) -> typing.Iterator[Command]:
        for name in sorted(self._commands):
            yield self[name]

    def __getitem__(self, name: str) -> Command:
        command = self._commands[name]
        command.prepare(self._types())
        return command

    def __len__(self) -> int:
        return len(self._commands)

    def names(self) -> list[str]:
        return sorted(self._commands)
