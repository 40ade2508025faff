import { UI_MESSAGE_STREAM_HEADER } from "@lash/remote-protocol";
import { KEEP_ALIVE_FRAME } from "../http/event-stream-headers.js";
import type { StartedTurn } from "../turns/turn-runner.js";
import { dataFrame, eventStreamBody } from "./event-stream-body.js";
import { readTurnLog } from "./turn-log-reader.js";
import { UiMessageChunkMapper } from "./ui-message-chunks.js";

/**
 * The segment of a turn that `started` as an AI SDK 7 UI message stream: `start`, the chunks of
 * its activities, then `finish` (or `error`), then `data: [DONE]`. The turn runs whoever reads: a
 * client that disconnects only stops its own reader (the turn ends and commits as any turn does;
 * `GET /v1/sessions/{id}/turns/{turnId}/events` serves the rest in lash's own events). `env` is the
 * route's `c.env` (see `eventStreamBody`).
 */
export function uiMessageStreamResponse(started: StartedTurn, heartbeatMs: number, env: unknown): Response {
  const { record } = started;
  const mapper = new UiMessageChunkMapper(record.sessionId, record.turnId);
  async function* frames(signal: AbortSignal): AsyncGenerator<string> {
    yield mapper.start().map(dataFrame).join("");
    for await (const item of readTurnLog(record, started.firstEventId - 1, { idleMs: heartbeatMs, signal })) {
      switch (item.type) {
        case "activity": {
          const chunks = mapper.activity(item.activity);
          if (chunks.length > 0) yield chunks.map(dataFrame).join("");
          break;
        }
        case "idle":
          yield KEEP_ALIVE_FRAME;
          break;
        case "result":
          yield mapper.finish(item.result).map(dataFrame).join("");
          break;
        case "error":
          yield mapper.fail(item.error.error.message).map(dataFrame).join("");
          break;
        case "expired":
          yield mapper.fail("the turn's events are no longer kept; read its result with GET /v1/sessions/{id}").map(dataFrame).join("");
          break;
      }
    }
    if (!signal.aborted) yield "data: [DONE]\n\n";
  }
  return eventStreamBody(frames, { [UI_MESSAGE_STREAM_HEADER]: "v1", "lash-turn-id": record.turnId }, env, record.log);
}
