"""``python -m app check``: the configuration and capabilities, against the registered commands.

Every problem is one line, ``file: $.json.path: what is wrong and what to do``: unknown
permission identifiers (with the closest known one), grants of commands that do not exist, and
globs, URL patterns and scope entries that cannot be used. Then notes, in the same form, about
what is valid but may not be meant: commands no capability grants, windows no capability covers,
capability files not used, commands that take a Scope granted with no allow entries. Exit status
0 when there is no problem (notes or not), 1 otherwise.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import TextIO

from ..acl.compiled import (
    CompiledCapability,
    Problem,
    Rule,
    command_of,
    compile_capability,
    display,
)
from ..acl.model import PermissionEntry
from ..acl.permissions import Catalogue, PermissionSets, command_permissions, split
from ..acl.scope import Scope
from ..app import App
from ..config import page_path
from ..isolation.page import render
from ..transport.csp import DIRECTIVES, restricts_nothing, unknown_directives
from .common import catalogue_of, show, source_of

__all__ = ["check", "report"]


def _did_you_mean(catalogue: Catalogue, identifier: str) -> str:
    close = catalogue.suggest(identifier)
    return f"; did you mean '{close}'?" if close else "."


def _unknown(catalogue: Catalogue, identifier: str) -> str:
    shape = split(identifier)
    if shape is not None and not identifier.startswith("core:"):
        command = command_of(shape[1])
        return (
            f"'{identifier}' is about the command '{command}', but no command of that name "
            f"is registered{_did_you_mean(catalogue, identifier)}"
        )
    return f"unknown permission '{identifier}'{_did_you_mean(catalogue, identifier)}"


def _scope_problems(
    app: App, entry: PermissionEntry, sets: PermissionSets, file: Path, path: str
) -> list[Problem]:
    problems = []
    targets = [shape[1] for p, _ in sets.expand(entry.identifier) if (shape := split(p))]
    readers = []
    for target in targets:
        command = app.registry.get(command_of(target))
        if command is not None and Scope in command.injected.values():
            readers.append(command.name)
    commands = sorted({command_of(t) for t in targets if not t.startswith("core:event:")})
    if targets and not commands:
        problems.append(
            Problem(
                file,
                path,
                "its scope entries have no effect: event permissions take no scope entries",
            )
        )
    elif commands and not readers:
        problems.append(
            Problem(
                file,
                path,
                f"its scope entries have no effect: {', '.join(commands)} takes "
                "no Scope parameter, so nothing reads them",
            )
        )
    # (A path that is not a pattern stops the config from loading: config.load._unusable_values.)
    for kind, entries in (("allow", entry.allow), ("deny", entry.deny)):
        for j, value in enumerate(entries):
            if "path" in value:
                continue
            # Entries may carry an app's own keys; one that looks like "path" is a typo, and
            # the entry then limits nothing (a deny would let everything through).
            typo = difflib.get_close_matches("path", [str(k) for k in value], 1, 0.6)
            if typo and readers:
                problems.append(Problem(
                    file, f"{path}.{kind}[{j}]",
                    f"{typo[0]!r} is not a key the core reads; did you mean 'path'? As it "
                    f"is, this {kind} entry names no path",
                ))
    return problems


def _capability(
    app: App, compiled: CompiledCapability, catalogue: Catalogue, sets: PermissionSets
) -> list[Problem]:
    capability = compiled.source.capability
    file, base = compiled.source.file, compiled.source.json_path
    problems = list(compiled.problems)
    if not capability.windows:
        problems.append(
            Problem(
                file,
                f"{base}.windows",
                "lists no window, so the capability applies to "
                'none; add window labels or globs such as "main"',
            )
        )
    if not capability.local and not (capability.remote and capability.remote.urls):
        problems.append(
            Problem(file, base, 'applies to no page: "local" is false and "remote.urls" is empty')
        )
    if capability.platforms == []:
        problems.append(Problem(
            file, f"{base}.platforms", "lists no platform, so the capability applies on none; "
            "list platforms such as \"linux\", or leave the key out for all of them",
        ))
    labels = [w.label for w in app.config.model.app.windows]
    for i, glob in enumerate(capability.windows):
        if not any(c in glob for c in "*?[") and glob not in labels:
            close = difflib.get_close_matches(glob, labels, 1)
            problems.append(Problem(
                file, f"{base}.windows[{i}]",
                f"no configured window is labelled {glob!r}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + " (a window opened later with app.open_window may be)",
                note=True,
            ))
    for i, entry in enumerate(capability.permissions):
        path = f"{base}.permissions[{i}]"
        identifier = entry.identifier if isinstance(entry, PermissionEntry) else entry
        if identifier not in catalogue:
            where = f"{path}.identifier" if isinstance(entry, PermissionEntry) else path
            problems.append(Problem(file, where, _unknown(catalogue, identifier)))
        elif isinstance(entry, PermissionEntry) and (entry.allow or entry.deny):
            problems += _scope_problems(app, entry, sets, file, path)
    for target, rules in compiled.rules.items():
        # (A set granted less one of its members, deny named beside it, is meant.)
        allowed = next((r for r in rules if r.effect == "allow"), None)
        denied = next((r for r in rules if r.effect == "deny"
                       and not (r.via is None and allowed is not None and allowed.via)), None)
        if allowed is not None and denied is not None:
            what = (f"the command '{command_of(target)}'" if not target.startswith("core:")
                    else f"what '{target}' allows")
            problems.append(Problem(
                file, denied.location.rpartition(" ")[2],
                f"'{denied.permission}'{_through(denied)} denies what "
                f"'{allowed.permission}'{_through(allowed)} allows in the same capability: the "
                f"deny wins, so {what} is denied wherever this capability applies; remove one",
                note=True,
            ))
    return problems


def _through(rule: Rule) -> str:
    return f" (through '{rule.via}')" if rule.via else ""


def _sets(app: App, catalogue: Catalogue, sets: PermissionSets) -> list[Problem]:
    problems = []
    file = app.config.path
    command_ids = {p for c in app.registry for p in command_permissions(c.name)}
    seen: set[str] = set()
    for k, entry in enumerate(app.config.model.app.security.permission_sets):
        base = f"$.app.security.permissionSets[{k}]"
        if entry.identifier in seen or entry.identifier in command_ids:
            problems.append(
                Problem(
                    file,
                    f"{base}.identifier",
                    f"'{entry.identifier}' is already the name "
                    "of another permission or set; choose another name",
                )
            )
        seen.add(entry.identifier)
        for m, member in enumerate(entry.permissions):
            if member not in catalogue:
                problems.append(
                    Problem(file, f"{base}.permissions[{m}]", _unknown(catalogue, member))
                )
        loop = sets.cycle(entry.identifier)
        if loop:
            problems.append(
                Problem(
                    file,
                    base,
                    f"the set includes itself ({' -> '.join(loop)}); remove one of these links",
                )
            )
    return problems


def _coverage(app: App, compiled: list[CompiledCapability]) -> list[Problem]:
    config = app.config
    problems = []
    granted = {
        rule.target
        for c in compiled
        for rules in c.rules.values()
        for rule in rules
        if rule.effect == "allow"
    }
    listed = config.model.app.security.capabilities is not None
    declared = "$.app.security.capabilities" if listed else "$.app.security"
    for command in app.registry:
        allow = command_permissions(command.name)[0]
        if allow not in granted:
            source = source_of(command)
            at = f" ({source})" if source else ""
            problems.append(
                Problem(
                    config.path,
                    declared,
                    f"command '{command.name}'{at} is granted by no "
                    f"capability, so no window can call it; add {json.dumps(allow)} to a "
                    "capability's permissions, or remove the command",
                    note=True,
                )
            )
    for i, window in enumerate(config.model.app.windows):
        covering = [c for c in compiled if c.matches_window(window.label)]
        if not covering:
            problems.append(
                Problem(
                    config.path,
                    f"$.app.windows[{i}]",
                    f"window '{window.label}' is "
                    "covered by no capability, so its page can call nothing; add a "
                    f'capability with "windows": ["{window.label}"]',
                    note=True,
                )
            )
        elif not any(c.local for c in covering):
            names = ", ".join(f"'{c.identifier}'" for c in covering)
            problems.append(
                Problem(
                    config.path,
                    f"$.app.windows[{i}]",
                    f"window '{window.label}' is "
                    f"covered only for remote pages (by {names}), not for its local "
                    'frontend; set "local": true in one of them or add a capability',
                    note=True,
                )
            )
    for file in config.unused_capability_files:
        problems.append(
            Problem(
                file,
                "$",
                f"this capability file is not used: app.security.capabilities "
                f"in {config.path.name} does not name '{file.stem}'; add "
                f"{json.dumps(file.stem)} there, or delete the file",
                note=True,
            )
        )
    return problems


def _unscoped(app: App, compiled: list[CompiledCapability]) -> list[Problem]:
    """Notes: a command that takes a ``Scope``, granted only without allow entries, may use no
    path at all (its grants are valid, and ``check_path`` refuses everything): anywhere, or in
    a configured window whose local pages get it only so (a window's scope is the union of the
    grants that apply there)."""
    problems = []
    labels = [window.label for window in app.config.model.app.windows]
    for command in app.registry:
        if Scope not in command.injected.values():
            continue
        allow = command_permissions(command.name)[0]
        grants = [(c, rule) for c in compiled for rule in c.rules.get(allow, ())
                  if rule.effect == "allow" and rule.target == allow]
        if not grants:
            continue
        empty: dict[int, tuple[CompiledCapability, Rule, list[str]]] = {}
        if not any(rule.allow for _, rule in grants):
            empty = {id(rule): (c, rule, []) for c, rule in grants}
        else:
            for label in labels:
                applying = [c for c in compiled if c.local and c.matches_window(label)]
                ids = {id(c) for c in applying}
                if any(rule.effect == "deny" and rule.target == allow
                       for c in applying for rule in c.rules.get(allow, ())):
                    continue  # denied there: a note about its scope would be beside the point
                here = [(c, rule) for c, rule in grants if id(c) in ids]
                if here and not any(rule.allow for _, rule in here):
                    for c, rule in here:
                        empty.setdefault(id(rule), (c, rule, []))[2].append(label)
        for capability, rule, windows in empty.values():
            shown = display(capability.source.file)
            where = rule.location[len(shown) + 1:] if rule.location.startswith(shown) else ""
            there = " for " + ", ".join(f"window '{w}'" for w in windows) if windows else ""
            problems.append(Problem(
                capability.source.file, where or capability.source.json_path,
                f"command '{command.name}' takes a Scope, and no grant of it{there} has allow "
                f"entries, so its scope{' there' if windows else ''} allows no path: "
                "scope.check_path refuses every one; grant it as "
                f'{{"identifier": "{allow}", "allow": [{{"path": "$APP/..."}}]}}',
                note=True,
            ))
    return problems


def check(app: App) -> list[Problem]:
    """Every problem of ``app``'s configuration and capabilities, in file order."""
    security = app.config.model.app.security
    sets = PermissionSets(security.set_members())
    catalogue = catalogue_of(app)
    # Capabilities of every platform are checked: the app ships to all of them.
    compiled = [compile_capability(source, sets) for source in app.config.capabilities]
    problems = []
    for capability in compiled:
        problems += _capability(app, capability, catalogue, sets)
    problems += _sets(app, catalogue, sets)
    problems += _coverage(app, compiled)
    problems += _unscoped(app, compiled)
    problems += _pages(app)
    problems += _isolation_app(app)
    problems += _csp(app)
    return problems


def _csp(app: App) -> list[Problem]:
    """Directives no browser knows, and a policy that restricts nothing: valid, and most
    likely not what was meant."""
    policy = app.config.model.app.security.csp
    problems = []
    for name in dict.fromkeys(unknown_directives(policy)):
        close = difflib.get_close_matches(name, DIRECTIVES, n=1)
        problems.append(Problem(
            app.config.path, "$.app.security.csp",
            f"no browser knows the directive {name!r}, so it restricts nothing"
            + (f"; did you mean {close[0]!r}?" if close else ""),
            note=True,
        ))
    if not problems and restricts_nothing(policy):  # (a misspelt one says so already)
        problems.append(Problem(
            app.config.path, "$.app.security.csp",
            "this policy has no directive, so the pages are served with none in effect: any "
            "script may run in them, from anywhere (null gives the shell's default policy)",
            note=True,
        ))
    return problems


def _isolation_app(app: App) -> list[Problem]:
    """What the core would find wrong with the isolation app as it serves its frame (a module
    script, a script that is not one of its files): the frame then blocks every call."""
    directory = app.config.isolation_dir
    if directory is None:
        return []
    page = render(directory, {})
    problems = [Problem(app.config.path, "$.app.security.pattern.options.dir",
                        f"{problem} Until then the isolation frame blocks every call.")
                for problem in page.problems]
    if not page.names_hook and not problems:  # (a problem above may be why)
        problems.append(Problem(
            app.config.path, "$.app.security.pattern.options.dir",
            f"no script of the isolation app ({directory / 'index.html'} and the scripts it "
            "loads) names window.__ISOLATION_HOOK__ (or __TAURI_ISOLATION_HOOK__): with no hook "
            "the isolation frame blocks every call; check the name's spelling",
            note=True,
        ))
    return problems


def _pages(app: App) -> list[Problem]:
    """Each window's page is a file of the frontend (the core serves no other page for it);
    with a dev server, the dev server's pages are not looked at."""
    config = app.config
    if config.model.build.dev_url is not None:
        return []
    problems = []
    root = config.frontend_dir
    for index, window in enumerate(config.model.app.windows):
        target = root / (page_path(window.url) or "index.html")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(
                Problem(
                    config.path,
                    f"$.app.windows[{index}].url",
                    f"window '{window.label}' would open a page that is not there: "
                    f"{target} does not exist",
                )
            )
    return problems


def report(app: App, problems: list[Problem], out: TextIO) -> int:
    """Print ``problems`` one per line (problems first, then notes), then a summary; return the
    exit status: 1 when there is a problem, 0 when there are only notes or nothing."""
    config = app.config
    errors = [p for p in problems if not p.note]
    notes = [p for p in problems if p.note]
    for problem in errors:
        print(f"{show(problem.file)}: {problem.json_path}: {problem.message}", file=out)
    for note in notes:
        print(f"{show(note.file)}: {note.json_path}: note: {note.message}", file=out)
    noted = f"; {_count(len(notes), 'note')} above" if notes else ""
    if errors:
        print(
            f"{_count(len(errors), 'problem')} found in {show(config.path)} and its "
            f"capabilities{noted}.",
            file=out,
            flush=True,
        )
        return 1
    files = sorted({display(c.file) for c in config.capabilities})
    capabilities = _count(len(config.capabilities), "capability", "capabilities")
    print(
        f"{show(config.path)}: no problems ({capabilities} in "
        f"{', '.join(files) or 'no file'}; {_count(len(app.registry), 'command')}; "
        f"{_count(len(config.model.app.windows), 'window')}){noted}.",
        file=out,
        flush=True,
    )
    return 0


def _count(n: int, what: str, plural: str = "") -> str:
    return f"{n} {what if n == 1 else plural or what + 's'}"
