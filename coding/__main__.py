"""`python -m coding` runs the `codewerk` command."""
import sys

from coding.cli import main

sys.exit(main())
