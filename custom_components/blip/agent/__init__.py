"""Blip's conversation turn: backends, prompts, fillers, spoken-text cleanup and orchestration.

Everything here except ``safety_alerts`` is free of Home Assistant imports, so it is tested and
benchmarked directly; ``conversation.py`` wires it into Home Assistant.
"""
