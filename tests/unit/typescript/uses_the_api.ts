import { invoke, Channel, IpcError } from "./core.js";
import { listen, emit, type Event } from "./event.js";

interface GreetArgs { name: string }
class Point { constructor(public x: number, public y: number) {} }

async function main(): Promise<void> {
  const args: GreetArgs = { name: "World" };
  const hello: string = await invoke<string>("greet", args);
  await invoke("plot", new Point(1, 2), { timeoutMs: 1000 });
  await invoke("plot", { x: 1 }, null);
  await invoke("read_config", null);
  await invoke("plot", { x: 1 }, { timeoutMs: undefined });
  const onAny = (e: Event) => console.log(e.payload);
  await listen("y", onAny);
  const viaGlobal: string = await window.__APP__.core.invoke<string>("greet", { name: hello });
  const label: string = window.__APP__.window.label;
  const unlisten = await window.__APP__.event.listen<{ n: number }>("tick", (e) => {
    const n: number = e.payload.n;
    console.log(n, e.source, e.event, e.id, label, viaGlobal);
  });
  unlisten();
  await listen("x", () => {});
  await emit("x", { any: "json" });
  const progress = new Channel<number>((v) => console.log(v + 1));
  progress.close();
  window.addEventListener("app:ready", () => {});
  try { await invoke("fail"); } catch (e) {
    if (e instanceof IpcError && e.code === "command_failed") console.log(e.data);
  }
  // An error of the app's own, as the runtime makes them: code, message, data.
  const own = new IpcError("invalid_args", "'plot' needs x", { field: "x" });
  console.log(own.code);
}
main();
