// AudioWorklet for hands-free mode: the microphone, resampled to 16 kHz mono, posted to the page
// in 20 ms Float32 frames (the page sends them to /voice/ws as 16-bit PCM).
"use strict";
class Capture16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / 16000;  // input samples per output sample
    this.position = 0;               // where the next output sample falls in the input
    this.previous = 0;               // the last input sample of the previous block
    this.frame = new Float32Array(320);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    // Linear interpolation between input samples; index -1 is the previous block's last.
    while (this.position < channel.length) {
      const at = Math.floor(this.position);
      const left = at === 0 ? this.previous : channel[at - 1];
      const right = channel[at];
      const weight = this.position - at;
      this.frame[this.filled++] = left + (right - left) * weight;
      if (this.filled === this.frame.length) {
        this.port.postMessage(this.frame.slice(0));
        this.filled = 0;
      }
      this.position += this.step;
    }
    this.position -= channel.length;
    this.previous = channel[channel.length - 1];
    return true;
  }
}
registerProcessor("capture-16k", Capture16k);
