/**
 * ESLint plugin `verity`: the module boundary rule of ARCHITECTURE §2, held by the linter.
 *
 * `verity/boundaries` checks every import, re-export and dynamic import of a workspace file:
 * - a relative import never leaves its own workspace (packages/<n>, modules/<n>, apps/<n>);
 * - another workspace is imported by its package entry only (`@verity/identity`), never by a path
 *   into it (`@verity/identity/src/service.ts`); `@verity/<x>/testing` only from tests and test support;
 * - direction kernel → modules → apps: packages/* never import modules/* or apps/*, modules never apps;
 * - runtime code declares every workspace it imports in its package.json `dependencies`, and those
 *   declared dependencies form no cycle — so the import graph between workspaces has none either.
 * Tests (test/**, *.test.ts, src/testing.ts) may use any workspace as a fixture: they are not shipped.
 * Root tooling (scripts/, bench/) is not a workspace and is not checked.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const KINDS = ['packages', 'modules', 'apps'];
const RANK = { packages: 0, modules: 1, apps: 2 };
const SCOPE = '@verity/';

/** Reads every workspace's package.json under `root`. */
export function readWorkspaces(root) {
  const byName = new Map();
  for (const kind of KINDS) {
    const dir = path.join(root, kind);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const pkgFile = path.join(dir, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith(SCOPE));
      byName.set(pkg.name, { name: pkg.name, kind, dir: path.join(dir, entry.name), deps });
    }
  }
  return byName;
}

/** Every cycle in the declared dependencies, each as a list of package names (first = last). */
export function findCycles(workspaces) {
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (name) => {
    state.set(name, 'open');
    stack.push(name);
    for (const dep of workspaces.get(name)?.deps ?? []) {
      if (!workspaces.has(dep)) continue;
      if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of workspaces.keys()) if (!state.has(name)) visit(name);
  return cycles;
}

function workspaceOf(file, workspaces) {
  for (const ws of workspaces.values()) {
    if (file === ws.dir || file.startsWith(ws.dir + path.sep)) return ws;
  }
  return undefined;
}

function isTestFile(file, ws) {
  const rel = path.relative(ws.dir, file).split(path.sep);
  const base = rel.at(-1) ?? '';
  return rel[0] === 'test' || base.endsWith('.test.ts') || (rel[0] === 'src' && (rel[1] === 'testing' || base === 'testing.ts'));
}

/** Why `source`, imported from `file`, breaks a boundary; undefined when it is allowed. */
function violation(source, file, ws, ctx) {
  const test = isTestFile(file, ws);
  if (source.startsWith('.')) {
    const target = path.resolve(path.dirname(file), source);
    if (target !== ws.dir && !target.startsWith(ws.dir + path.sep)) {
      return `"${source}" leaves ${ws.name}; import another workspace by its package name (its index.ts), never by path`;
    }
    return undefined;
  }
  if (!source.startsWith(SCOPE)) return undefined;
  const [scopeName, pkgName, ...rest] = source.split('/');
  const name = `${scopeName}/${pkgName}`;
  const target = ctx.workspaces.get(name);
  if (!target) return `"${name}" is not a workspace of this repository`;
  const subpath = rest.join('/');
  if (subpath && subpath !== 'testing') return `"${source}" reaches into ${name}; import its entry "${name}" only`;
  if (subpath === 'testing' && !test) return `"${source}" is test support: only tests and testing.ts may import it`;
  if (test) return undefined;
  if (target === ws) return `${ws.name} imports itself by package name; use a relative path inside the workspace`;
  if (RANK[target.kind] > RANK[ws.kind]) return `${ws.kind}/* must not depend on ${target.kind}/* (direction: packages → modules → apps)`;
  if (!ws.deps.includes(name)) return `${ws.name} imports "${name}" without declaring it in its package.json dependencies`;
  const cycle = ctx.cycles.find((c) => c.includes(ws.name) && c.includes(name));
  if (cycle) return `import cycle between workspaces: ${cycle.join(' → ')}`;
  return undefined;
}

function createContext(root) {
  const workspaces = readWorkspaces(root);
  return { workspaces, cycles: findCycles(workspaces) };
}

const contexts = new Map();

export const boundariesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps module boundaries: package entries only, no deep or escaping imports, no cycles (ARCHITECTURE §2)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: { boundary: '{{reason}}' },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    if (!contexts.has(root)) contexts.set(root, createContext(root));
    const ctx = contexts.get(root);
    const file = path.resolve(context.physicalFilename);
    const ws = workspaceOf(file, ctx.workspaces);
    if (!ws) return {};
    const check = (node) => {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const reason = violation(node.value, file, ws, ctx);
      if (reason) context.report({ node, messageId: 'boundary', data: { reason } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportEqualsDeclaration: (node) => check(node.moduleReference?.expression),
    };
  },
};

export default { meta: { name: 'verity' }, rules: { boundaries: boundariesRule } };
