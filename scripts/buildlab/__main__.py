import sys

from buildlab.cli import main

sys.exit(main())
