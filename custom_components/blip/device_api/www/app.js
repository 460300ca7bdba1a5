// Blip's kid page: pair once with a code, then hold the big button to talk.
// The answer streams back as NDJSON (text as it comes) with an audio URL that plays while
// Blip voice is still speaking. Works in iPhone Safari (mp4 recording, playsinline, audio
// unlocked in the press gesture) and Android Chrome (webm/opus).
"use strict";

(function () {
  const BASE = location.pathname.replace(/[^/]*$/, ""); // .../api/blip/device/
  const TOKEN_KEY = "blip-device-token";
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const player = $("player");
  // A tiny silent WAV: played inside the press gesture so iOS lets the answer play later.
  const SILENCE =
    "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";
  const NAPPING = {
    paused: "Blip is napping. Ask a grown-up when you want to play again.",
    quiet_hours: "Shh… it's quiet time. Blip is asleep. See you tomorrow!",
    daily_minutes: "Blip is resting after all that fun. Let's play again tomorrow!",
  };
  // What the page did, for tests and for a curious parent's console.
  const log = (window.blipLog = []);
  const played = (window.blipPlayed = []);

  let token = localStorage.getItem(TOKEN_KEY);
  let recorder = null;
  let micStream = null;
  let chunks = [];
  let busy = false;
  let pressStarted = 0;
  let retryTimer = null;

  function setState(state, message) {
    app.dataset.state = state;
    $("status").textContent = message || "";
    const labels = {
      ready: "Hold to talk",
      listening: "I'm listening…",
      thinking: "Hmm…",
      speaking: "Blip is talking",
      napping: "Blip is napping",
      offline: "No connection",
    };
    $("talk-label").textContent = labels[state] || "Hold to talk";
    log.push({ state, message: message || "", at: performance.now() });
  }

  function show(section) {
    $("pairing").hidden = section !== "pairing";
    $("talk").hidden = section !== "talk";
  }

  function authHeaders(extra) {
    return Object.assign({ Authorization: "Bearer " + token }, extra || {});
  }

  // -- pairing ------------------------------------------------------------------------------

  function needPairing(message) {
    token = null;
    localStorage.removeItem(TOKEN_KEY);
    show("pairing");
    app.dataset.state = "pairing";
    $("pair-message").textContent = message || "";
    const code = new URLSearchParams(location.search).get("code");
    if (code) $("code").value = code;
  }

  $("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("code").value.replace(/\D/g, "");
    if (code.length !== 6) {
      $("pair-message").textContent = "The code has 6 numbers.";
      return;
    }
    try {
      const response = await fetch(BASE + "pair", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code, name: deviceName() }),
      });
      const body = await response.json();
      if (!response.ok) {
        $("pair-message").textContent =
          response.status === 429
            ? "Too many tries. Wait a minute, then try again."
            : "That code didn't work. Ask a grown-up for a new one.";
        return;
      }
      token = body.token;
      localStorage.setItem(TOKEN_KEY, token);
      history.replaceState(null, "", BASE); // the used code leaves the address bar
      await hello();
    } catch (err) {
      $("pair-message").textContent = "Can't reach Blip. Is the Wi-Fi on?";
    }
  });

  function deviceName() {
    const ua = navigator.userAgent;
    if (/iPad/.test(ua)) return "iPad";
    if (/iPhone/.test(ua)) return "iPhone";
    if (/Android/.test(ua)) return /Mobile/.test(ua) ? "Android phone" : "Android tablet";
    return "Browser";
  }

  async function hello() {
    clearTimeout(retryTimer);
    try {
      const response = await fetch(BASE + "hello", { headers: authHeaders(), cache: "no-store" });
      if (response.status === 401) return needPairing("This device needs a new code from a grown-up.");
      if (!response.ok) throw new Error("status " + response.status);
      const body = await response.json();
      show("talk");
      $("greeting").textContent = "Hi " + body.child + "!";
      if (body.paused) setState("napping", NAPPING.paused);
      else setState("ready");
    } catch (err) {
      show("talk");
      offline();
    }
  }

  function offline() {
    setState("offline", "Blip can't hear us right now. Trying again…");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(hello, 5000);
  }

  // -- talking ------------------------------------------------------------------------------

  function recordingType() {
    if (!window.MediaRecorder) return null;
    for (const type of ["audio/webm;codecs=opus", "audio/mp4", "audio/webm", "audio/ogg;codecs=opus"]) {
      if (MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }

  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  let audioContext = null;
  let playing = null; // the answer being played: {record, sources, stopped}

  function unlockAudio() {
    // Inside the press gesture: iOS and Chrome let audio play later only if it started here.
    stopPlaying();
    if (AudioContextClass) {
      if (!audioContext) audioContext = new AudioContextClass();
      if (audioContext.state !== "running") audioContext.resume();
      const buffer = audioContext.createBuffer(1, 1, 22050);
      const source = audioContext.createBufferSource();
      source.buffer = buffer;
      source.connect(audioContext.destination);
      source.start(0);
      return;
    }
    player.onplaying = player.onended = player.onerror = null;
    player.src = SILENCE;
    const attempt = player.play();
    if (attempt && attempt.catch) attempt.catch(() => {});
  }

  function stopPlaying() {
    if (playing) {
      playing.stopped = true;
      playing.sources.forEach((source) => {
        try { source.stop(); } catch (err) { /* already ended */ }
      });
      playing = null;
    }
    if (!player.paused) player.pause();
  }

  async function startTalking(event) {
    if (event) event.preventDefault();
    if (busy || recorder || !token) return;
    if (app.dataset.state === "offline") return hello();
    pressStarted = performance.now();
    unlockAudio();
    const type = recordingType();
    if (type === null || !navigator.mediaDevices) {
      setState("ready", "This browser can't record. Try Safari or Chrome.");
      return;
    }
    try {
      micStream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      setState("ready", "Blip needs the microphone. Ask a grown-up to allow it.");
      return;
    }
    chunks = [];
    recorder = type ? new MediaRecorder(micStream, { mimeType: type }) : new MediaRecorder(micStream);
    recorder.ondataavailable = (e) => e.data && e.data.size && chunks.push(e.data);
    recorder.onstop = sendRecording;
    recorder.start(250);
    $("heard").textContent = "";
    $("answer").textContent = "";
    setState("listening");
  }

  function stopTalking(event) {
    if (event) event.preventDefault();
    if (!recorder || recorder.state === "inactive") return;
    // A quick tap records a little longer so a first word isn't cut off.
    const held = performance.now() - pressStarted;
    setTimeout(() => recorder && recorder.state !== "inactive" && recorder.stop(), held < 400 ? 400 : 150);
  }

  async function sendRecording() {
    const type = (recorder && recorder.mimeType) || "audio/webm";
    recorder = null;
    if (micStream) micStream.getTracks().forEach((track) => track.stop());
    micStream = null;
    const blob = new Blob(chunks, { type });
    if (blob.size < 1000) return setState("ready", "Hold the button while you talk.");
    await turn(blob, type.split(";")[0]);
  }

  async function turn(body, type) {
    busy = true;
    setState("thinking");
    const sent = performance.now();
    let answer = "";
    let napping = null;
    try {
      const response = await fetch(BASE + "turn?format=" + (AudioContextClass ? "wav" : "mp3"), {
        method: "POST",
        headers: authHeaders({ "Content-Type": type }),
        body,
      });
      if (response.status === 401) return needPairing("This device needs a new code from a grown-up.");
      if (response.status === 422) return setState("ready", "Oops, Blip didn't catch that. Try again!");
      if (response.status === 429) return setState("ready", "Whoa, slow down a little! Try again soon.");
      if (!response.ok || !response.body) throw new Error("status " + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line);
          log.push({ event: event.type, text: event.text || "", at: performance.now() - sent });
          if (event.type === "heard") $("heard").textContent = "“" + event.text + "”";
          else if (event.type === "start" && event.audio) play(event.audio, sent);
          else if (event.type === "text") {
            answer += event.text;
            $("answer").textContent = answer;
          } else if (event.type === "done") {
            $("answer").textContent = event.text;
            napping = event.napping;
          } else if (event.type === "error") $("answer").textContent = event.text;
        }
      }
      if (napping) setState("napping", NAPPING[napping] || NAPPING.paused);
      else if (app.dataset.state === "thinking") setState(player.paused ? "ready" : "speaking");
    } catch (err) {
      offline();
    } finally {
      busy = false;
    }
  }

  function play(url, sent) {
    const record = { url, requestedAt: performance.now() - sent, playingAt: null, endedAt: null, seconds: 0 };
    played.push(record);
    if (audioContext) return playPcmStream(url + "", record, sent);
    // No Web Audio: the audio element plays the stream (MP3) as it downloads.
    player.onplaying = () => {
      if (record.playingAt === null) record.playingAt = performance.now() - sent;
      if (app.dataset.state !== "napping") setState("speaking");
    };
    player.onended = () => {
      record.endedAt = performance.now() - sent;
      record.seconds = player.duration;
      if (app.dataset.state === "speaking") setState("ready");
    };
    player.onerror = () => {
      record.error = true;
      if (app.dataset.state === "speaking") setState("ready");
    };
    player.src = url;
    const attempt = player.play();
    if (attempt && attempt.catch) attempt.catch((err) => (record.error = String(err)));
  }

  // A streamed WAV (header, then 16-bit PCM as Blip speaks) played with Web Audio: each piece is
  // scheduled right after the previous one, so sound starts with the first bytes.
  async function playPcmStream(url, record, sent) {
    const current = (playing = { record, sources: [], stopped: false });
    let format = null;
    let pending = new Uint8Array(0);
    let playAt = 0;
    let last = null;
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok || !response.body) throw new Error("status " + response.status);
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || current.stopped) break;
        pending = concat(pending, value);
        if (!format) {
          format = parseWavHeader(pending);
          if (!format) continue;
          pending = pending.slice(format.dataOffset);
        }
        const frameBytes = 2 * format.channels;
        const usable = pending.length - (pending.length % frameBytes);
        if (!usable) continue;
        const source = schedule(pending.subarray(0, usable), format);
        pending = pending.slice(usable);
        const now = audioContext.currentTime;
        if (playAt < now + 0.02) playAt = now + 0.02;
        source.start(playAt);
        playAt += source.buffer.duration;
        record.seconds += source.buffer.duration;
        current.sources.push(source);
        last = source;
        if (record.playingAt === null) {
          record.playingAt = performance.now() - sent;
          if (app.dataset.state !== "napping") setState("speaking");
        }
      }
    } catch (err) {
      record.error = String(err);
    }
    const finish = () => {
      record.endedAt = performance.now() - sent;
      if (playing === current) playing = null;
      if (app.dataset.state === "speaking") setState("ready");
    };
    if (last && !current.stopped) last.onended = finish;
    else finish();
  }

  function schedule(bytes, format) {
    const frames = bytes.length / (2 * format.channels);
    const buffer = audioContext.createBuffer(format.channels, frames, format.rate);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let channel = 0; channel < format.channels; channel++) {
      const data = buffer.getChannelData(channel);
      for (let i = 0; i < frames; i++) {
        data[i] = view.getInt16((i * format.channels + channel) * 2, true) / 32768;
      }
    }
    const source = audioContext.createBufferSource();
    source.buffer = buffer;
    source.connect(audioContext.destination);
    return source;
  }

  function parseWavHeader(bytes) {
    // RIFF chunks until "data"; null while the header is still incomplete.
    if (bytes.length < 12) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let position = 12;
    let format = {};
    while (position + 8 <= bytes.length) {
      const id = String.fromCharCode(...bytes.subarray(position, position + 4));
      const size = view.getUint32(position + 4, true);
      if (id === "fmt " && position + 24 <= bytes.length) {
        format.channels = view.getUint16(position + 10, true);
        format.rate = view.getUint32(position + 12, true);
      }
      if (id === "data") return format.rate ? Object.assign(format, { dataOffset: position + 8 }) : null;
      position += 8 + size + (size & 1);
    }
    return null;
  }

  function concat(a, b) {
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a);
    joined.set(b, a.length);
    return joined;
  }

  const button = $("talk-button");
  button.addEventListener("pointerdown", startTalking);
  button.addEventListener("pointerup", stopTalking);
  button.addEventListener("pointercancel", stopTalking);
  button.addEventListener("pointerleave", stopTalking);
  button.addEventListener("contextmenu", (e) => e.preventDefault());
  button.addEventListener("keydown", (e) => (e.key === " " || e.key === "Enter") && !e.repeat && startTalking(e));
  button.addEventListener("keyup", (e) => (e.key === " " || e.key === "Enter") && stopTalking(e));
  window.addEventListener("online", hello);
  window.addEventListener("offline", offline);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && token && hello());

  if (token) hello();
  else needPairing();
})();
