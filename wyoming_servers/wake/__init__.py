"""Wyoming wake word server: openWakeWord models through pyopen-wakeword, one detector per connection."""
