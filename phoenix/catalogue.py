"""Every planted fault, declared in one place so that ``python -m phoenix faults`` and README agree."""

from phoenix.faults import register

# Filled in with the faults themselves; see phoenix/faults.py for the format.
