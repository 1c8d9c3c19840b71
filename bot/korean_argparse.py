"""argparse speaking Korean: section titles, the usage line and argparse's own errors.

argparse builds its messages from English templates (through gettext, with no Korean
catalogue); `KoreanArgumentParser.error` maps each template it may raise to Korean.
"""

from __future__ import annotations

import argparse
import re
import sys

from bot.exit_codes import EXIT_USAGE

# argparse's error templates (Python 3.11-3.13) → Korean; groups are kept in order.
_ERRORS = [
    (re.compile(r"the following arguments are required: (.+)"), "다음 인자가 필요합니다: {0}"),
    (re.compile(r"unrecognized arguments: (.+)"), "알 수 없는 인자입니다: {0}"),
    (re.compile(r"one of the arguments (.+) is required"), "다음 인자 중 하나가 필요합니다: {0}"),
    (re.compile(r"ambiguous option: (\S+) could match (.+)"), "옵션 {0}이(가) 여러 옵션과 맞습니다: {1}"),
    (re.compile(r"argument (.+?): invalid choice: (.+?) \(choose from (.+)\)"), "{0}: 잘못된 선택입니다: {1} (가능한 값: {2})"),
    (re.compile(r"argument (.+?): invalid (\w+) value: (.+)"), "{0}: 올바른 값이 아닙니다: {2}"),
    (re.compile(r"argument (.+?): expected one argument"), "{0}: 값이 하나 필요합니다"),
    (re.compile(r"argument (.+?): expected at least one argument"), "{0}: 값이 하나 이상 필요합니다"),
    (re.compile(r"argument (.+?): expected (\d+) arguments?"), "{0}: 값이 {1}개 필요합니다"),
    (re.compile(r"argument (.+?): not allowed with argument (.+)"), "{0}: {1}과(와) 함께 쓸 수 없습니다"),
    (re.compile(r"argument (.+?): ignored explicit argument (.+)"), "{0}: 값을 받지 않는 옵션입니다: {1}"),
]


def korean_error(message: str) -> str:
    """argparse's English error message in Korean (unknown ones are left as they are)."""
    for pattern, korean in _ERRORS:
        match = pattern.fullmatch(message)
        if match:
            return korean.format(*match.groups())
    return message


class KoreanHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, "사용법: " if prefix is None else prefix)


class KoreanArgumentParser(argparse.ArgumentParser):
    """argparse with Korean section titles, usage line and errors (exit status 2)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", KoreanHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "인자"
        self._optionals.title = "옵션"
        self.add_argument("-h", "--help", action="help", help="이 도움말을 보여 주고 끝냅니다")

    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 오류: {korean_error(message)}\n")
