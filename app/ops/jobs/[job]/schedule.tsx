import type { ScheduleState } from "@/lib/ops/schedule-state";
import { ActionForm, when } from "../../_ui/parts";

/**
 * The schedule's state in QStash and the one action that changes it: Resume when paused, Pause
 * when active (both while only some of a zoned job's schedules are paused). A paused schedule
 * shows no next run.
 */
export function ScheduleSection({ job, state, csrf }: { job: string; state: ScheduleState; csrf: string }) {
  if (state.state === "unknown") return <p id="schedule-state" className="warn">Schedule state unknown: {state.error}</p>;
  if (state.state === "missing") return <p id="schedule-state" className="warn">No schedule of {job} in QStash: pnpm qstash:schedule creates it.</p>;
  const pause = <ActionForm action="pause" csrf={csrf} fields={{ job }} label="Pause schedule" danger />;
  const resume = <ActionForm action="resume" csrf={csrf} fields={{ job }} label="Resume schedule" />;
  return (
    <div id="schedule-state" className="actions" data-state={state.state}>
      {state.state === "active" ? (
        <>
          <strong>Active</strong>, next run {when(state.next)}{state.lastDelivery ? <>, last delivery {when(state.lastDelivery)}</> : null}. {pause}
        </>
      ) : (
        <>
          <strong className="warn">{state.state === "paused" ? "Paused" : `Partly paused (${state.pausedIds.join(", ")})`}</strong>
          {/* QStash keeps no pause time: the last delivery is the latest the pause can have started. */}
          {state.lastDelivery ? <>, no delivery since {when(state.lastDelivery)}</> : ", no delivery yet"}
          {state.state === "partly paused" && state.next ? <>; the others run next {when(state.next)}</> : null}. {resume}
          {state.state === "partly paused" && <> {pause}</>}
        </>
      )}{" "}
      <small>{state.ids.join(", ")}</small>
    </div>
  );
}
