/**
 * A pass-through proxy in front of the simulator's API origin that notes, on the simulator's side
 * of the wire and with the same clock for every contender:
 * - when each video was created: the instant the answer to its POST /v1/videos passed through
 *   (the simulator answers right after creating the job, so this is its `created_at` to within a
 *   millisecond; the API itself only shows whole seconds);
 * - when its content was first asked for (GET /v1/videos/{id}/content): the download's start;
 * - how many times its status was asked for (GET /v1/videos/{id}).
 * The simulator's COMPLETE instant is created + renderFactor × audio duration, so the detection
 * delay of a job is contentAsked − (created + render time). Downloads themselves go to the file
 * host directly (the content redirect names it), not through the proxy.
 * It also counts the API's answers by status, and the connections the simulator dropped
 * ("reset"), the same way for every contender; and it notes every submit with the audio file
 * name it uploaded, so a benchmark can tell which inputs each video was made from.
 */
import { Agent, createServer, request } from "node:http"
import type { AddressInfo } from "node:net"

export interface VideoTimes {
  createdAt?: number
  /** The file name of the audio its POST uploaded. */
  audio?: string
  contentAskedAt?: number
  statusRequests: number
}

/** One POST /v1/videos as it went by. */
export interface SubmitSeen {
  readonly arrivedAt: number
  /** The `audio_reference` part's file name. */
  audio?: string
  /** The answer's status, "reset" when the simulator dropped the connection, "pending" before either. */
  outcome: string
  videoId?: string
}

export interface TimingProxy {
  readonly baseUrl: string
  readonly videos: ReadonlyMap<string, VideoTimes>
  /** Answers by HTTP status ("200", "429", …), and "reset" for connections dropped without one. */
  readonly statuses: ReadonlyMap<string, number>
  readonly submits: ReadonlyArray<SubmitSeen>
  readonly close: () => Promise<void>
}

const now = () => performance.timeOrigin + performance.now()

export const startTimingProxy = async (target: string): Promise<TimingProxy> => {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true, maxSockets: 512 })
  const videos = new Map<string, VideoTimes>()
  const statuses = new Map<string, number>()
  const submits: Array<SubmitSeen> = []
  const count = (status: string) => statuses.set(status, (statuses.get(status) ?? 0) + 1)
  const times = (id: string): VideoTimes => {
    const found = videos.get(id)
    if (found) return found
    const fresh: VideoTimes = { statusRequests: 0 }
    videos.set(id, fresh)
    return fresh
  }
  const server = createServer((req, res) => {
    const arrived = now()
    const path = req.url ?? "/"
    const match = /^\/v1\/videos\/([^/?]+)(\/content)?(?:\?.*)?$/.exec(path)
    if (req.method === "GET" && match?.[1] !== undefined) {
      const video = times(match[1])
      if (match[2] !== undefined) video.contentAskedAt ??= arrived
      else video.statusRequests++
    }
    const isCreate = req.method === "POST" && /^\/v1\/videos\/?(\?.*)?$/.test(path)
    const submit: SubmitSeen | undefined = isCreate ? { arrivedAt: arrived, outcome: "pending" } : undefined
    if (submit) {
      submits.push(submit)
      const body: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => body.push(chunk))
      req.on("end", () => {
        const name = /name="audio_reference"; filename="([^"]+)"/.exec(Buffer.concat(body).toString("latin1"))
        if (name?.[1] !== undefined) submit.audio = name[1]
      })
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, agent },
      (answer) => {
        const answeredAt = now()
        count(String(answer.statusCode))
        if (submit) submit.outcome = String(answer.statusCode)
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        if (!isCreate || answer.statusCode !== 200) {
          answer.pipe(res)
          return
        }
        const chunks: Array<Buffer> = []
        answer.on("data", (chunk: Buffer) => {
          chunks.push(chunk)
          res.write(chunk)
        })
        answer.on("end", () => {
          res.end()
          try {
            const id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown }).id
            if (typeof id === "string") {
              const video = times(id)
              video.createdAt = answeredAt
              if (submit?.audio !== undefined) video.audio = submit.audio
              if (submit) submit.videoId = id
            }
          } catch {
            // not a video: nothing to note
          }
        })
        answer.on("error", () => res.destroy())
      }
    )
    // A connection the simulator drops (an injected reset) is dropped for the client too.
    forward.on("error", () => {
      count("reset")
      if (submit) submit.outcome = "reset"
      res.destroy()
    })
    req.pipe(forward)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    videos,
    statuses,
    submits,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections()
        agent.destroy()
        server.close(() => closed())
      })
  }
}
