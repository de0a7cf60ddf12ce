import sys

from overfit.checks.command import main

sys.exit(main(sys.argv[1:]))
