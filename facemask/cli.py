"""What the scripts share on the command line: argparse types that refuse out-of-range numbers when
the flags are parsed (naming the flag and the allowed range), and one way to stop on a user's mistake.

Every user error exits with status 2, as argparse does for a bad command line, on one line
`<script>: error: <what is wrong and what to do>`. Status 1 on one line `<script>: failed: <why>` is a run
that may go better when started again (a camera that cannot be reached, detect.py); a traceback, which
also exits 1, is a bug.

    p.add_argument("--imgsz", type=image_size)              # 32..8192
    p.add_argument("--conf-thres", type=unit_float)         # 0..1
    p.add_argument("--max-det", type=positive_int())        # 1 or more
    p.add_argument("--batch", type=int_range(1, also=(-1,)))  # -1 (auto) or 1 or more
    p.add_argument("--zone", type=checked(parse_zone))      # any parser that raises ValueError

    def main(opt: argparse.Namespace) -> None:
        run_or_fail("val.py", run, opt)                     # run(**vars(opt)); a FacemaskError exits 2
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Collection
from dataclasses import field, fields
from typing import Any, NoReturn, TypeVar

from facemask.errors import FacemaskError

T = TypeVar("T")

USER_ERROR = 2  # argparse's exit status for a bad command line
RUN_FAILED = 1  # a run that failed as a whole (its camera lost or unreachable): systemd restarts on it


def fail(prog: str, message: object) -> NoReturn:
    """Print `prog: error: message` on stderr and exit USER_ERROR, as argparse's parser.error does."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(USER_ERROR)


def failed(prog: str, message: object) -> NoReturn:
    """Print `prog: failed: message` on stderr and exit RUN_FAILED: not a mistake to mend, a run to start again."""
    print(f"{prog}: failed: {message}", file=sys.stderr)
    sys.exit(RUN_FAILED)


def run_or_fail(prog: str, run: Callable[..., T], opt: argparse.Namespace, interrupted: str | None = None) -> T:
    """A script's main(): `run(**vars(opt))`, a user's mistake (FacemaskError) said in one line with exit 2.
    With `interrupted`, a Ctrl-C ends on the line `prog: <interrupted>` (exit 1), not a traceback."""
    try:
        return run(**vars(opt))
    except FacemaskError as e:
        fail(prog, e)
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        sys.exit(f"{prog}: {interrupted}")


def _describe(lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False) -> str:
    """'from 0 to 1', 'at least 1', 'above 0 and at most 1', ..."""
    if lo is not None and hi is not None and not (lo_open or hi_open):
        return f"from {lo} to {hi}"
    ends = []
    if lo is not None:
        ends.append(f"above {lo}" if lo_open else f"at least {lo}")
    if hi is not None:
        ends.append(f"below {hi}" if hi_open else f"at most {hi}")
    return " and ".join(ends)


def int_range(lo: int | None = None, hi: int | None = None, *, also: Collection[int] = ()) -> Callable[[str], int]:
    """An argparse type: an integer in lo..hi (no limit on an end that is None), or one of `also`."""
    allowed = _describe(lo, hi) + (f" (or {', '.join(map(str, also))})" if also else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}, not {text}") from None
        if value not in also and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}, not {text}")
        return value

    return parse


def float_range(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number in [lo, hi] (`lo_open`/`hi_open` exclude that end; no limit on an
    end that is None). NaN and infinity are refused: NaN fails every comparison, so it would slip past
    any check made later."""
    allowed = _describe(lo, hi, lo_open, hi_open)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if not math.isfinite(value) or below or above:
            raise argparse.ArgumentTypeError(f"must be a number {allowed}, not {text}")
        return value

    return parse


def positive_int(hi: int | None = None) -> Callable[[str], int]:
    """1 or more (and at most `hi`): counts, strides, sizes, where 0 would divide by zero or never advance."""
    return int_range(1, hi)


def positive_float(hi: float | None = None) -> Callable[[str], float]:
    """More than 0 (and at most `hi`)."""
    return float_range(0, hi, lo_open=True)


def checked(parser: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from any parser that raises ValueError with a reason: argparse then shows that
    reason after the flag's name, where a plain ValueError would only say 'invalid value'."""

    def parse(text: str) -> T:
        try:
            return parser(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return parse


unit_float = float_range(0, 1)  # thresholds, fractions
image_size = int_range(32, 8192)  # network input pixels: below one 32 px stride nothing is seen; above, GBs
port_number = int_range(1, 65535)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """--help says each flag's default where it has one worth saying (not None, off or empty): argparse's
    ArgumentDefaultsHelpFormatter also prints 'default: None' and 'default: False' for every switch."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text, default = action.help, action.default
        if not text or "%(default)" in text or default in (None, False, argparse.SUPPRESS) or default == []:
            return text
        return f"{text} (default: {'on' if default is True else '%(default)s'})"


def script_parser(doc: str | None) -> argparse.ArgumentParser:
    """A script's parser: its docstring's first paragraph as the description, and its defaults in --help."""
    return argparse.ArgumentParser(description=(doc or "").split("\n\n")[0], formatter_class=DefaultsHelpFormatter)


# Options dataclasses (DetectOptions, MergeOptions, ...) hold each default once; their fields' metadata makes
# the --flags, so that argparse and run() read the same default.
def option(default: Any, help_text: str, **argparse_kwargs: Any) -> Any:
    """A field whose --flag is made from its metadata: `help_text` and argparse's keywords (type, nargs,
    aliases: other names of the flag). A False default makes a switch (store_true)."""
    return field(default=default, metadata={"help": help_text, **argparse_kwargs})


def flag(options: type, name: str) -> dict[str, Any]:
    """argparse's keywords for the --flag of the field `name` of the dataclass `options`."""
    (f,) = [f for f in fields(options) if f.name == name]
    switch = {"action": "store_true"} if f.default is False else {}
    return {"default": f.default, **switch, **{k: v for k, v in f.metadata.items() if k != "aliases"}}


def add_flags(parser: argparse.ArgumentParser, options: type, names: tuple[str, ...] | None = None) -> None:
    """A --flag for each field of `options` (those in `names`, if given), in the fields' order."""
    for f in fields(options):
        if names is None or f.name in names:
            aliases = f.metadata.get("aliases", ())
            parser.add_argument(f"--{f.name.replace('_', '-')}", *aliases, dest=f.name, **flag(options, f.name))
