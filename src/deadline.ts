/**
 * A request's deadline as its work sees it. The AbortSignal is made only when something asks for
 * it (a resolver, or a token check that has to wait), so a request served from memory pays for
 * none.
 */
export class Deadline {
  #controller: AbortController | undefined;
  #reason: Error | undefined;

  get expired(): boolean {
    return this.#reason !== undefined;
  }

  /** Aborts, with the deadline's error as reason, when the deadline passes. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  expire(reason: Error): void {
    this.#reason ??= reason;
    this.#controller?.abort(reason);
  }
}
