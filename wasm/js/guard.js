// What every entry of the package does to the classes wasm-bindgen generates (wasm/js/index.js for
// ES modules, the CommonJS entry built from wasm/js/index.cjs), written once: `export function`s
// only, so that wasm/scripts/export-shim.mjs can turn a copy of it into CommonJS.
//
// - A freed object (`free()`, or the end of its `using` block) throws, or for a method that
//   returns a promise rejects with, an IfmatchError of code `invalid_state`, instead of
//   wasm-bindgen's "null pointer passed to rust".
// - A Client made before the wasm is loaded (a browser that did not `await init()`) is deferred:
//   its first request loads the wasm and makes the real client, so that bad options reject there.
//   Its synchronous members (`stats()`, `deprecations()`) throw `invalid_state` until then.

/** How to make another object of each class once the old one is freed. */
const AGAIN = {
  Client: 'create a new Client',
  Lock: 'take a new lock with client.lock()',
  Transaction: 'begin a new one with client.begin()',
  Conflicts: 'use client.conflicts again',
};

/** Members that answer synchronously (all the others return a promise); getters too. */
const SYNC = new Set(['free', 'stats', 'deprecations', 'subscribe', 'extend']);

/**
 * Wraps the glue's classes and functions in place and returns the package's API: `glue` is the
 * wasm-bindgen module (its `IfmatchError` included), `loader` is `{ ready(): boolean, load():
 * Promise<void> }`: whether the wasm is instantiated, and instantiate it (with the default URL).
 */
export function protect(glue, loader) {
  const { IfmatchError } = glue;
  // Deferred objects (made before the wasm was loaded) -> { real, make, freed }.
  const deferred = new WeakMap();
  const notReady = (what) => new IfmatchError(
    `${what} needs the ifmatch wasm, which is not loaded yet; \`await init()\` first (the first request of a Client loads it too)`,
    { code: 'invalid_state', hint: 'call `await init()` (imported from ifmatch) before using the package synchronously' },
  );
  const freed = (name) => new IfmatchError(
    `this ${name} was freed (${name.toLowerCase()}.free() or the end of its \`using\` block); ${AGAIN[name]}`,
    { code: 'invalid_state', hint: AGAIN[name] },
  );
  const materialize = (entry) => {
    if (!entry.real) entry.real = entry.make();
    return entry.real;
  };

  for (const name of Object.keys(AGAIN)) {
    const cls = glue[name];
    if (typeof cls !== 'function') continue;
    const proto = cls.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key.startsWith('__')) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      if (desc.get) {
        const get = desc.get;
        Object.defineProperty(proto, key, { ...desc, get: wrap(name, key, get, true) });
      } else if (typeof desc.value === 'function') {
        proto[key] = wrap(name, key, desc.value, SYNC.has(key));
      }
    }
    // wasm-bindgen's `[Symbol.dispose]` is `free`: keep it so, and let a second free do nothing.
    if (Symbol.dispose && proto[Symbol.dispose]) proto[Symbol.dispose] = proto.free;
    const asyncDispose = Symbol.asyncDispose && proto[Symbol.asyncDispose];
    if (asyncDispose) {
      proto[Symbol.asyncDispose] = function () {
        if (isFreed(this)) return Promise.resolve();
        return asyncDispose.call(this);
      };
    }
  }

  function isFreed(self) {
    const entry = deferred.get(self);
    if (entry) return entry.freed || (entry.real !== null && entry.real.__wbg_ptr === 0);
    return self.__wbg_ptr === 0;
  }

  function wrap(name, key, fn, sync) {
    const fail = (error) => {
      if (sync) throw error;
      return Promise.reject(error);
    };
    return function (...args) {
      let self = this;
      const entry = deferred.get(self);
      if (entry) {
        if (key === 'free') {
          entry.freed = true;
          if (entry.real && entry.real.__wbg_ptr !== 0) entry.real.free();
          return undefined;
        }
        if (entry.freed) return fail(freed(name));
        if (!entry.real && loader.ready()) {
          try {
            materialize(entry);
          } catch (error) {
            return fail(error);
          }
        }
        if (!entry.real) {
          if (key === 'conflicts') return deferConflicts(entry);
          // extend() of a deferred client: a deferred client too, made from the real one.
          if (key === 'extend') return deferClient(() => fn.apply(materialize(entry), args));
          if (sync) throw notReady(`${name.toLowerCase()}.${key}${callSuffix(fn)}`);
          return loader.load().then(() => fn.apply(materialize(entry), args));
        }
        self = entry.real;
      }
      if (self.__wbg_ptr === 0) {
        if (key === 'free') return undefined;
        return fail(freed(name));
      }
      return fn.apply(self, args);
    };
  }

  // `client.conflicts` of a deferred client: a Conflicts whose requests wait for the client.
  function deferConflicts(clientEntry) {
    const lazy = Object.create(glue.Conflicts.prototype);
    const entry = { real: null, freed: false, make: () => materialize(clientEntry).conflicts };
    deferred.set(lazy, entry);
    // subscribe() answers an async iterable at once: it starts the real subscription on first use.
    lazy.subscribe = (...args) => {
      let inner;
      const start = () => {
        if (!inner) inner = loader.load().then(() => materialize(entry).subscribe(...args));
        return inner;
      };
      return {
        next: () => start().then((it) => it.next()),
        return: (value) => (inner ? inner.then((it) => it.return(value)) : Promise.resolve({ value, done: true })),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    };
    return lazy;
  }

  // A Client made by `make` once the wasm is loaded (its first request loads it).
  function deferClient(make, prototype = glue.Client.prototype) {
    const self = Object.create(prototype);
    self.__wbg_ptr = 0;
    deferred.set(self, { real: null, freed: false, make });
    return self;
  }

  // The Client itself: deferred when the wasm is not loaded yet (only a browser without init()).
  const RawClient = glue.Client;
  const Client = new Proxy(RawClient, {
    construct(target, args, newTarget) {
      if (loader.ready()) return Reflect.construct(target, args, newTarget);
      return deferClient(() => Reflect.construct(target, args), newTarget.prototype);
    },
  });
  RawClient.prototype.constructor = Client;

  const api = {};
  for (const key of Object.keys(glue)) {
    if (key === 'default' || key === 'initSync' || key.startsWith('__')) continue;
    const value = glue[key];
    if (key === 'Client') api[key] = Client;
    else if (key === 'isIfmatchError') {
      // Also before the wasm is loaded (e.g. on the error saying it could not be): the same test in JavaScript.
      api[key] = (err) => (loader.ready() ? value(err) : err instanceof Error && err.name === 'IfmatchError' && typeof err.code === 'string');
    }
    else if (typeof value === 'function' && !/^[A-Z]/.test(key)) {
      // version(), diff(), applyPatch(): synchronous, so they need the wasm now.
      api[key] = function (...args) {
        if (!loader.ready()) throw notReady(`${key}()`);
        return value.apply(this, args);
      };
    } else api[key] = value;
  }
  return api;
}

/** `()` after a method's name, none after a getter's. */
function callSuffix(fn) {
  return fn.name.startsWith('get ') ? '' : '()';
}
