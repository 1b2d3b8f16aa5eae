// Each line is an error the declarations must catch.
import { invoke, IpcError } from "./core.js";
invoke(5);
window.__APP__.window.label = "x";
window.__APP__.event.emitTo("main");
new IpcError("the message alone");
invoke("echo", [1, 2]);
invoke("echo", () => 1);
