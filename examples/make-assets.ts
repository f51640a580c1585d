/**
 * Regenerates the small example assets under examples/assets/ (committed; run this only to change
 * them): `npx tsx examples/make-assets.ts`. Uses the ffmpeg binary shipped by @ffmpeg-installer.
 */
import ffmpeg from "@ffmpeg-installer/ffmpeg"
import { execFileSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "assets")
const run = (args: ReadonlyArray<string>, out: string) => {
  mkdirSync(dirname(join(root, out)), { recursive: true })
  execFileSync(ffmpeg.path, ["-hide_banner", "-loglevel", "error", "-y", ...args, join(root, out)])
}

// Portrait (9:16) presenters: a coloured backdrop and a face-coloured square.
const presenter = (background: string, face: string) => `color=c=${background}:s=180x320,drawbox=x=50:y=60:w=80:h=80:color=${face}:t=fill`
run(["-f", "lavfi", "-i", presenter("0x3366cc", "0xf0c8a0"), "-frames:v", "1"], "presenters/alice.png")
run(["-f", "lavfi", "-i", presenter("0xcc6633", "0xe0b090"), "-frames:v", "1", "-q:v", "5"], "presenters/bob.jpg")
run(["-f", "lavfi", "-i", presenter("0x339966", "0x8d5524"), "-frames:v", "1"], "presenters/carol.png")

// Voice tracks: tones of distinct pitch and length, tiny on purpose (8 kHz mono).
const tone = (hz: number, seconds: number) => ["-f", "lavfi", "-i", `sine=frequency=${hz}:duration=${seconds}`, "-ar", "8000", "-ac", "1"]
run([...tone(220, 2), "-c:a", "pcm_u8"], "voice/hello.wav")
run([...tone(330, 3), "-b:a", "16k"], "voice/welcome.mp3")
run([...tone(262, 2), "-c:a", "pcm_u8"], "locales/en.wav")
run([...tone(294, 2.5), "-c:a", "pcm_u8"], "locales/fr.wav")
run([...tone(349, 3), "-c:a", "pcm_u8"], "locales/de.wav")
run([...tone(392, 1.5), "-c:a", "pcm_u8"], "outreach/p-001.wav")
run([...tone(440, 2), "-c:a", "pcm_u8"], "outreach/p-002.wav")
run([...tone(494, 7), "-b:a", "16k"], "outreach/p-003.mp3")
