"""Blip voice: streaming speech for children's satellites, without dead air.

Pure logic with no Home Assistant import: a Wyoming TTS client, PCM conversion (resampling,
channels, sample width), streaming containers (WAV, CAF), a low-latency ffmpeg encoder for the
formats Blip does not write itself, the in-memory phrase cache, and the sentence-by-sentence
speaker that ties them together. ``custom_components/blip/tts.py`` wraps it as an entity.
"""
