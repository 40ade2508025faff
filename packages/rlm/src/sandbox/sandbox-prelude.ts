/**
 * The JavaScript the sandbox evaluates once, at creation, inside QuickJS. It returns the functions
 * the host keeps handles to. Everything it needs from the language (JSON, Object, ...) is captured
 * here, before any cell runs, so a cell that replaces `JSON.stringify` or pollutes a prototype
 * breaks only its own code: the host receives strings and parses them itself.
 *
 * Only strings cross the boundary: tool arguments and results, printed text, submitted values and
 * the state snapshot are JSON text.
 */
export const SANDBOX_PRELUDE = `(function (hostCall, hostPrint, hostSubmit) {
  "use strict";
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys;
  const isArray = Array.isArray;
  const objectPrototype = Object.prototype;
  const indirectEval = (0, eval);
  const ErrorConstructor = Error;
  const StringConstructor = String;
  const isFinite = Number.isFinite;
  const global = globalThis;

  function render(value) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "[function " + (value.name || "anonymous") + "]";
    if (typeof value === "symbol" || typeof value === "bigint") return StringConstructor(value);
    if (value instanceof ErrorConstructor) return StringConstructor(value.name) + ": " + StringConstructor(value.message);
    try {
      const text = stringify(value, null, 2);
      return text === undefined ? StringConstructor(value) : text;
    } catch (error) {
      return StringConstructor(value);
    }
  }

  // String.prototype.repeat, padStart and padEnd copy one character at a time inside the engine,
  // where the time limit cannot interrupt them: a single call may run for seconds. These versions
  // double the string instead (a few copies, each checked against the memory limit).
  const stringPrototype = String.prototype;
  const nativeRepeat = stringPrototype.repeat;
  const floor = Math.floor;
  const ceil = Math.ceil;
  const RangeErrorConstructor = RangeError;
  const TypeErrorConstructor = TypeError;
  function toText(value, method) {
    if (value === null || value === undefined) throw new TypeErrorConstructor("String.prototype." + method + " called on null or undefined");
    return StringConstructor(value);
  }
  function repeatText(text, count) {
    if (count <= 64 || text.length === 0) return nativeRepeat.call(text, count);
    let result = "";
    let piece = text;
    let remaining = count;
    while (remaining > 0) {
      if (remaining % 2 === 1) result += piece;
      remaining = floor(remaining / 2);
      if (remaining > 0) piece += piece;
    }
    return result;
  }
  function repeat(count) {
    const text = toText(this, "repeat");
    let times = +count;
    if (times !== times) times = 0;
    times = times < 0 ? ceil(times) : floor(times);
    if (times < 0 || times === Infinity) throw new RangeErrorConstructor("invalid repeat count");
    return repeatText(text, times);
  }
  function padding(text, targetLength, padString) {
    let target = +targetLength;
    if (target !== target || target <= text.length) return "";
    target = floor(target);
    const filler = padString === undefined ? " " : StringConstructor(padString);
    if (filler === "") return "";
    const needed = target - text.length;
    return repeatText(filler, ceil(needed / filler.length)).slice(0, needed);
  }
  function padStart(targetLength, padString) {
    const text = toText(this, "padStart");
    return padding(text, targetLength, padString) + text;
  }
  function padEnd(targetLength, padString) {
    const text = toText(this, "padEnd");
    return text + padding(text, targetLength, padString);
  }
  for (const [name, method] of [["repeat", repeat], ["padStart", padStart], ["padEnd", padEnd]]) {
    defineProperty(method, "name", { value: name });
    defineProperty(stringPrototype, name, { value: method, writable: true, configurable: true, enumerable: false });
  }

  function print() {
    const parts = [];
    for (let index = 0; index < arguments.length; index += 1) parts.push(render(arguments[index]));
    hostPrint(parts.join(" "));
  }

  function submit(value) {
    const text = stringify(value === undefined ? null : value);
    if (text === undefined) throw new ErrorConstructor("submit() needs a JSON value (not a function or a symbol)");
    hostSubmit(text);
  }

  const tools = {};
  function installTools(namesJson) {
    for (const key of ownKeys(tools)) delete tools[key];
    for (const name of parse(namesJson)) {
      const call = async function (args) {
        const reply = parse(await hostCall(name, stringify(args === undefined ? {} : args)));
        if (reply.ok) return reply.value;
        const error = new ErrorConstructor(reply.message);
        error.name = "ToolError";
        error.code = reply.code;
        throw error;
      };
      defineProperty(call, "name", { value: name });
      defineProperty(tools, name, { value: call, enumerable: true, configurable: true, writable: false });
    }
  }

  defineProperty(global, "tools", { value: tools, enumerable: false, configurable: false, writable: false });
  defineProperty(global, "print", { value: print, enumerable: false, configurable: false, writable: false });
  defineProperty(global, "submit", { value: submit, enumerable: false, configurable: false, writable: false });
  defineProperty(global, "console", {
    value: { log: print, info: print, warn: print, error: print, debug: print },
    enumerable: false,
    configurable: false,
    writable: false,
  });

  const MAX_DEPTH = 64;

  /** Why a value does not survive a JSON round trip unchanged, or undefined when it does. */
  function lossOf(value, depth, seen) {
    if (value === null) return undefined;
    const type = typeof value;
    if (type === "string" || type === "boolean") return undefined;
    if (type === "number") return isFinite(value) ? undefined : "a non-finite number";
    if (type === "function") return "a function";
    if (type === "symbol" || type === "bigint" || type === "undefined") return "a " + type;
    if (depth > MAX_DEPTH) return "nested too deeply";
    if (seen.indexOf(value) !== -1) return "a cyclic value";
    seen.push(value);
    try {
      if (isArray(value)) {
        for (let index = 0; index < value.length; index += 1) {
          if (!(index in value)) return "an array with holes";
          const loss = lossOf(value[index], depth + 1, seen);
          if (loss !== undefined) return loss;
        }
        return undefined;
      }
      const prototype = getPrototypeOf(value);
      if (prototype !== objectPrototype && prototype !== null) {
        const name = prototype && prototype.constructor && prototype.constructor.name;
        return "a " + (typeof name === "string" && name !== "" ? name : "class instance");
      }
      for (const key of ownKeys(value)) {
        if (typeof key === "symbol") return "an object with symbol keys";
        const descriptor = getOwnPropertyDescriptor(value, key);
        if (!("value" in descriptor)) return "an object with getters";
        if (!descriptor.enumerable) continue;
        const loss = lossOf(descriptor.value, depth + 1, seen);
        if (loss !== undefined) return loss;
      }
      return undefined;
    } finally {
      seen.pop();
    }
  }

  /**
   * The named global bindings as JSON text: for each, its kind (let, const, var), and either its
   * JSON or why it cannot be saved. Names that resolve to nothing are left out.
   */
  function snapshot(namesJson, maxBytes) {
    const bindings = [];
    const lost = [];
    let bytes = 0;
    for (const name of parse(namesJson)) {
      let value;
      try {
        value = indirectEval(name);
      } catch (error) {
        continue;
      }
      let kind = "var";
      if (getOwnPropertyDescriptor(global, name) === undefined) {
        kind = "let";
        try {
          indirectEval(name + " = " + name);
        } catch (error) {
          kind = "const";
        }
      }
      if (value === undefined) {
        bindings.push({ name: name, kind: kind, undefined: true });
        continue;
      }
      const loss = lossOf(value, 0, []);
      if (loss !== undefined) {
        lost.push({ name: name, reason: loss });
        continue;
      }
      const json = stringify(value);
      if (bytes + json.length > maxBytes) {
        lost.push({ name: name, reason: "over the saved-state size limit" });
        continue;
      }
      bytes += json.length;
      bindings.push({ name: name, kind: kind, json: json });
    }
    return stringify({ bindings: bindings, lost: lost });
  }

  return { installTools: installTools, snapshot: snapshot };
})`;
