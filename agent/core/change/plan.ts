// The plan of an apply: which sections changed between the running and the candidate
// configuration, and which components consume them, in dependency order (a component after
// the components it depends on). Only those components are asked, delivered to and checked.

import { GitopsError } from '../errors.js';
import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import type { Component } from '../config/types.js';

/** What the plan reads of a component (the configuration's type, config/types.ts). */
export type ComponentSpec = Pick<Component, 'sections' | 'depends_on'>;

export interface Plan {
  changedSections: string[];
  /** Components to reconfigure, dependencies first. */
  components: string[];
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** Components in dependency order; throws on a cycle (validation refuses those before). */
export function dependencyOrder(
  components: Readonly<Record<string, ComponentSpec>>,
  wanted: ReadonlySet<string>,
): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new GitopsError(
        'component-cycle',
        `components depend on each other in a cycle: ${[...trail, name].join(' -> ')}`,
        'remove one of the depends_on entries',
      );
    state.set(name, 'visiting');
    for (const dep of components[name]?.depends_on ?? []) if (components[dep]) visit(dep, [...trail, name]);
    state.set(name, 'done');
    if (wanted.has(name)) order.push(name);
  };
  for (const name of Object.keys(components).sort()) visit(name, []);
  return order;
}

export function planChanges(before: JsonObject | undefined, after: JsonObject): Plan {
  const components = (isObject(after.components) ? after.components : {}) as unknown as Record<string, ComponentSpec>;
  const sections = new Set([...Object.keys(before ?? {}), ...Object.keys(after)].filter((k) => k !== 'components'));
  const changedSections = [...sections].filter((s) => !deepEqual(before?.[s], after[s])).sort();
  const affected = new Set<string>();
  const beforeComponents = isObject(before?.components) ? before.components : {};
  for (const [name, spec] of Object.entries(components)) {
    if (
      !before ||
      spec.sections.some((s) => changedSections.includes(s)) ||
      !deepEqual(beforeComponents[name], after.components && (after.components as JsonObject)[name])
    )
      affected.add(name);
  }
  return { changedSections, components: dependencyOrder(components, affected) };
}
