"""How long work reports where it is: ``progress(done, total, message)``.

Jobs write it to their job record (the API shows it); the CLI draws it as a bar.
"""

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
