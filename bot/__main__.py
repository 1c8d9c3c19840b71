"""`python -m bot` runs the Telegram bot, as `qabot serve` does."""

import sys

from bot.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
