/**
 * The console's HTML: Hono's `html` tagged template, which escapes every value put in it (a task
 * output holding `<script>` stays text); `raw` only for markup of our own.
 */
import type { HtmlEscapedString } from 'hono/utils/html';
import { raw } from 'hono/html';
export { html, raw } from 'hono/html';

/** A fragment of escaped HTML. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** A fragment without the whitespace between its tags: the grid's thousands of cells, sent lean. Not for `<pre>` or `<textarea>`. */
export async function compact(fragment: Html): Promise<HtmlEscapedString> {
  return raw(
    String(await fragment)
      .replace(/>\s+</g, '><')
      .replace(/\s+/g, ' ')
      .replace(/ >/g, '>'),
  );
}
