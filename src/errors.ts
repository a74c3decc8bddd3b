/** What an error says at its root: shared by the workflows and the clients. Pure. */

/** The innermost failure message: what actually went wrong, not "Activity task failed" or "Workflow Update failed". */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
