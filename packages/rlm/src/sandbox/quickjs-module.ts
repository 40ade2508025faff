import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import releaseSyncVariant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";

/**
 * The variant package is typed as CommonJS, so its default import reads as the module object to
 * TypeScript, while Node's ESM loader gives the variant itself; both shapes are accepted.
 */
const variant = (
  "default" in releaseSyncVariant ? (releaseSyncVariant as { default: unknown }).default : releaseSyncVariant
) as QuickJSSyncVariant;

type WasmModule = Exclude<NonNullable<Parameters<typeof newVariant>[1]["wasmModule"]>, () => unknown>;
type WasmMemory = Exclude<NonNullable<Parameters<typeof newVariant>[1]["wasmMemory"]>, () => unknown>;

/** The WebAssembly API as this file uses it (the TypeScript libraries here declare only its types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE_BYTES = 64 * 1024;
/** The engine's own linear memory before any heap use (its initial memory, stack and static data). */
const BASE_PAGES = 256;

let compiled: Promise<WasmModule> | undefined;

/** The engine's WebAssembly, compiled once per process from the `.wasm` file inside the package. */
function compiledEngine(): Promise<WasmModule> {
  compiled ??= readFile(fileURLToPath(import.meta.resolve("@jitl/quickjs-wasmfile-release-sync/wasm"))).then((bytes) =>
    wasm.compile(bytes),
  );
  return compiled;
}

/**
 * A fresh QuickJS WebAssembly instance (the release build without asyncify: host functions answer
 * with promises, so the stack never needs to be suspended) whose linear memory cannot grow past
 * `heapBytes` above the engine's base. That cap is what bounds a sandbox's memory: the engine's
 * own allocation limit cannot see most allocations in this build, while a memory that refuses to
 * grow makes every allocation past it fail as `out of memory`. Nothing is downloaded: the `.wasm`
 * ships inside the npm package.
 */
export async function loadQuickJsModule(heapBytes: number): Promise<QuickJSWASMModule> {
  const memory = new wasm.Memory({ initial: BASE_PAGES, maximum: BASE_PAGES + Math.ceil(heapBytes / PAGE_BYTES) });
  return newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmModule: await compiledEngine(), wasmMemory: memory }));
}
