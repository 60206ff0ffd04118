import type { Handler } from "../context";
import { HttpError } from "../http";
import { batch, enqueue, publish } from "./publish";
import { cancelMessage, cancelMessages, events, getMessage, keys } from "./messages";
import { createSchedule, deleteSchedule, getSchedule, listSchedules, pauseOrResume } from "./schedules";
import { deleteDlq, deleteDlqMany, getDlq, listDlq, retryDlqMany, retryDlqOne } from "./dlq";
import { flowAction, getFlowControl, globalParallelism, listFlowControl } from "./flow-admin";
import { deleteQueue, getQueue, listQueues, pauseOrResumeQueue, upsertQueue } from "./queues";
import { addEndpoints, deleteUrlGroup, getUrlGroup, listUrlGroups, removeEndpoints } from "./url-groups";

type Route = [methods: string[], pattern: RegExp, handler: Handler];

/** Every endpoint served; first match wins, so pause/resume come before schedule creation, whose destination may contain anything. */
const ROUTES: Route[] = [
  [["POST"], /^\/v2\/publish\/(.+)$/, publish],
  [["POST"], /^\/v2\/enqueue\/([^/]+)\/(.+)$/, enqueue],
  [["POST"], /^\/v2\/batch\/?$/, batch],
  [["GET"], /^\/v2\/schedules\/?$/, listSchedules],
  [["PATCH", "POST"], /^\/v2\/schedules\/([^/]+)\/(pause|resume)$/, pauseOrResume],
  [["POST"], /^\/v2\/schedules\/(.+)$/, createSchedule],
  [["GET"], /^\/v2\/schedules\/([^/]+)$/, getSchedule],
  [["DELETE"], /^\/v2\/schedules\/([^/]+)$/, deleteSchedule],
  [["GET"], /^\/v2\/messages\/([^/]+)$/, getMessage],
  [["DELETE"], /^\/v2\/messages\/([^/]+)$/, cancelMessage],
  [["DELETE"], /^\/v2\/messages\/?$/, cancelMessages],
  [["GET"], /^\/v2\/dlq\/?$/, listDlq],
  [["DELETE"], /^\/v2\/dlq\/?$/, deleteDlqMany],
  [["POST"], /^\/v2\/dlq\/retry\/?$/, retryDlqMany],
  [["POST"], /^\/v2\/dlq\/retry\/([^/]+)$/, retryDlqOne],
  [["GET"], /^\/v2\/dlq\/([^/]+)$/, getDlq],
  [["DELETE"], /^\/v2\/dlq\/([^/]+)$/, deleteDlq],
  [["GET"], /^\/v2\/keys\/?$/, keys],
  [["GET"], /^\/v2\/events\/?$/, events],
  [["POST"], /^\/v2\/queues\/?$/, upsertQueue],
  [["GET"], /^\/v2\/queues\/?$/, listQueues],
  [["POST"], /^\/v2\/queues\/([^/]+)\/(pause|resume)$/, pauseOrResumeQueue],
  [["GET"], /^\/v2\/queues\/([^/]+)$/, getQueue],
  [["DELETE"], /^\/v2\/queues\/([^/]+)$/, deleteQueue],
  [["GET"], /^\/v2\/topics\/?$/, listUrlGroups],
  [["POST"], /^\/v2\/topics\/([^/]+)\/endpoints$/, addEndpoints],
  [["DELETE"], /^\/v2\/topics\/([^/]+)\/endpoints$/, removeEndpoints],
  [["GET"], /^\/v2\/topics\/([^/]+)$/, getUrlGroup],
  [["DELETE"], /^\/v2\/topics\/([^/]+)$/, deleteUrlGroup],
  [["GET"], /^\/v2\/flowControl\/?$/, listFlowControl],
  [["POST"], /^\/v2\/flowControl\/([^/]+)\/(pause|resume|pin|unpin|resetRate)$/, flowAction],
  [["GET"], /^\/v2\/flowControl\/([^/]+)$/, getFlowControl],
  [["GET"], /^\/v2\/globalParallelism\/?$/, globalParallelism],
];

export function route(method: string, path: string): { handler: Handler; params: string[] } {
  let pathKnown = false;
  for (const [methods, pattern, handler] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (methods.includes(method)) return { handler, params: m.slice(1) };
    pathKnown = true;
  }
  if (pathKnown) throw new HttpError(405, `method ${method} is not allowed on ${path}`);
  throw new HttpError(404, `not found: ${method} ${path} is not part of the QStash API served here`);
}
