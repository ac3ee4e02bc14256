// A new device from a template, in process: the files the repository would hold, and every
// refusal before anything is written.

import { describe, expect, it } from 'vitest';
import { checkDeviceId, planNewDevice, withRecipient } from '../../agent/core/change/device.js';
import { exampleFiles } from '../helpers/project.js';

const KEY = 'age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const none = (): boolean => false;

describe('planNewDevice', () => {
  it('fills the template made for the model, under the device header; no recipient, no other file', () => {
    const files = exampleFiles();
    const plan = planNewDevice(files, { env: 'staging', id: 'stg-door-02', model: 'rpi4-camv2' }, none);
    expect(plan).toMatchObject({
      target: 'environments/staging/devices/stg-door-02.yaml',
      template: 'pi-csi',
      steps: [],
    });
    expect(plan.rewrap).toBeUndefined();
    const text = plan.files.get(plan.target)!;
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# yaml-language-server: $schema=../../../schemas/device.schema.json',
      '# Doorbell stg-door-02 (model rpi4-camv2), created from template pi-csi.',
    ]);
    expect(text).toContain('  id: stg-door-02\n  model: rpi4-camv2\n');
    expect([...plan.files.keys()].filter((f) => plan.files.get(f) !== files.get(f))).toEqual([plan.target]);
  });

  it("with a recipient: the key in the device, in the environment's rule, and the secrets to re-wrap", () => {
    const files = exampleFiles();
    const plan = planNewDevice(files, { env: 'staging', id: 'stg-door-02', model: 'rpi4-camv2', recipient: KEY }, none);
    expect(plan.files.get(plan.target)).toContain(`age_recipient: ${KEY}`);
    expect(plan.files.get('.sops.yaml')).toContain(
      `age1ala7msjmk8hefdfzwy6q4urghk3q5dv839q83fxcxv3yur7g5umqmsr78v,\n      ${KEY}\n`,
    );
    expect(plan.steps).toEqual(['listed its key in the staging rule of .sops.yaml']);
    expect(plan.rewrap).toMatchObject({ file: 'environments/staging/secrets.sops.yaml', threshold: 0 });
    expect(plan.rewrap!.groups.flat()).toContain(KEY);
  });

  it('refuses an unknown model, a taken id, an unknown template, a template that is not one and a bad recipient', () => {
    const files = exampleFiles();
    const ask = { env: 'staging', id: 'stg-door-02', model: 'rpi4-camv2' };
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return undefined;
    };
    expect(code(() => planNewDevice(files, { ...ask, model: 'rpi4-cam' }, none))).toBe('unknown-model');
    expect(code(() => planNewDevice(files, ask, () => true))).toBe('device-exists');
    expect(code(() => planNewDevice(files, { ...ask, id: 'stg-office-01' }, none))).toBe('device-exists');
    expect(code(() => planNewDevice(files, { ...ask, template: 'pi-cs' }, none))).toBe('unknown-template');
    const broken = new Map(files).set('config/templates/pi-csi.yaml', 'version: 2\nnot_a_device: {}\n');
    expect(code(() => planNewDevice(files, { ...ask, model: 'edge-p4-c920', template: 'x' }, none))).toBe(
      'unknown-template',
    );
    expect(code(() => planNewDevice(broken, ask, none))).toBe('usage'); // no template is made for the model now
    expect(code(() => planNewDevice(broken, { ...ask, template: 'pi-csi' }, none))).toBe('bad-template');
    expect(code(() => planNewDevice(files, { ...ask, recipient: 'ssh-ed25519 AAAA' }, none))).toBe('usage');
  });
});

describe('checkDeviceId and withRecipient', () => {
  it('a device id is 2 to 63 lower-case letters, digits and dashes', () => {
    expect(() => checkDeviceId('door-1')).not.toThrow();
    expect(() => checkDeviceId('Bad_Id')).toThrow(expect.objectContaining({ code: 'usage' }));
    expect(() => checkDeviceId('x')).toThrow(expect.objectContaining({ code: 'usage' }));
  });

  it('adds the key to a flow or block age list, and leaves a rule that has it', () => {
    const flow = 'creation_rules:\n  - path_regex: ^environments/a/\n    age: age1aaa\n';
    expect(withRecipient(flow, 'environments/a/secrets.sops.yaml', 'age1bbb')).toBe(
      'creation_rules:\n  - path_regex: ^environments/a/\n    age: "age1aaa,age1bbb"\n',
    );
    expect(withRecipient(flow, 'environments/a/secrets.sops.yaml', 'age1aaa')).toBe(flow);
    const groups = 'creation_rules:\n  - key_groups:\n      - age: [age1aaa]\n';
    expect(withRecipient(groups, 'environments/a/secrets.sops.yaml', 'age1bbb')).toBeUndefined();
  });
});
