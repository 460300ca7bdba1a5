"""Wyoming text-to-speech server: piper voices, a phrase cache and sentence-by-sentence streaming."""
