"""Oracles: functions from what was sent and observed to leaks. One property each (DESIGN §1)."""
