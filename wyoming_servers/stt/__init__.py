"""Blip's Wyoming speech-to-text server: faster-whisper with speculative decoding.

Decoding starts while the client is still streaming its end-of-speech silence, so the transcript
is usually ready when AudioStop arrives. An optional upstream Wyoming ASR is preferred when it
answers in time; the local model covers for it otherwise.
"""
