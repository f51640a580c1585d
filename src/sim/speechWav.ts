/**
 * Synthetic speech: a mono 16-bit PCM WAV whose length follows the text (about 60 ms per
 * character, at least half a second), with a gently varying tone per word so it is not silence.
 */
export const speechSampleRate = 16000
export const secondsPerCharacter = 0.06
export const minimumSpeechSeconds = 0.5

export const speechSeconds = (text: string): number => Math.max(minimumSpeechSeconds, Array.from(text).length * secondsPerCharacter)

const wavHeader = (dataBytes: number): Uint8Array => {
  const header = new Uint8Array(44)
  const view = new DataView(header.buffer)
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i)
  }
  ascii(0, "RIFF")
  view.setUint32(4, 36 + dataBytes, true)
  ascii(8, "WAVE")
  ascii(12, "fmt ")
  view.setUint32(16, 16, true) // PCM format chunk size
  view.setUint16(20, 1, true) // PCM
  view.setUint16(22, 1, true) // mono
  view.setUint32(24, speechSampleRate, true)
  view.setUint32(28, speechSampleRate * 2, true) // byte rate
  view.setUint16(32, 2, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  ascii(36, "data")
  view.setUint32(40, dataBytes, true)
  return header
}

export const speechWav = (text: string): Uint8Array => {
  const samples = Math.round(speechSeconds(text) * speechSampleRate)
  const wav = new Uint8Array(44 + samples * 2)
  wav.set(wavHeader(samples * 2), 0)
  const view = new DataView(wav.buffer)
  const words = text.split(/\s+/).filter((w) => w.length > 0)
  const samplesPerWord = Math.max(1, Math.floor(samples / Math.max(1, words.length)))
  for (let i = 0; i < samples; i++) {
    const word = words[Math.min(words.length - 1, Math.floor(i / samplesPerWord))] ?? ""
    const pitch = 140 + ((word.charCodeAt(0) || 0) % 60)
    const withinWord = (i % samplesPerWord) / samplesPerWord
    const envelope = Math.sin(Math.PI * withinWord) * 0.3
    const t = i / speechSampleRate
    view.setInt16(44 + i * 2, Math.round(32767 * envelope * Math.sin(2 * Math.PI * pitch * t)), true)
  }
  return wav
}
