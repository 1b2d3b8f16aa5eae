/** The code of a rejected call. */
export type IpcErrorCode =
  | "not_found"
  | "forbidden"
  | "blocked"
  | "invalid_args"
  | "command_failed"
  | "timeout"
  | "protocol"
  | "internal";

/** What a rejected `invoke` rejects with. `message` names the command and says what to do. */
export declare class IpcError extends Error {
  constructor(code: IpcErrorCode, message: string, data?: unknown);
  readonly name: "IpcError";
  readonly code: IpcErrorCode;
  /** For `command_failed`: what the command raised with; for `invalid_args`: the field errors,
   * `[{ field, message }]`; for `forbidden`: `{ permission, window, origin, originKind,
   * capability }` (and `path`, `command` when a scope refused a path). */
  readonly data?: unknown;
}

/** The command's arguments by name: any object (a plain one, or an interface's or a class's). */
export type InvokeArgs = object;

/** `A`, unless it is an array or a function, which the runtime refuses as arguments. */
export type NamedArgs<A> = A extends readonly unknown[] | ((...args: never[]) => unknown)
  ? never
  : A;

export interface InvokeOptions {
  /** Reject with `timeout` after this many milliseconds (default: the core's timeout + 5 s). */
  timeoutMs?: number | undefined;
}

/** Call a Python command by name with named arguments (camelCase or snake_case keys). */
export declare function invoke<T = unknown, A extends InvokeArgs = InvokeArgs>(
  cmd: string,
  args?: (A & NamedArgs<A>) | null,
  options?: InvokeOptions | null,
): Promise<T>;

/** Pass as an argument; the Python command annotated with `Channel` sends values to it. */
export declare class Channel<T = unknown> {
  constructor(onmessage?: (value: T) => void);
  readonly id: number;
  onmessage: ((value: T) => void) | null;
  close(): void;
}
