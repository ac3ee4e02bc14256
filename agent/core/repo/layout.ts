// Where things live in a configuration repository (DESIGN.md section 1). The repository is
// handed to core as a map of relative path -> text, read from a working tree or a git tree.

export type RepoFiles = ReadonlyMap<string, string>;

export const SCHEMA_DIR = 'schemas';
export const CONFIG_DIR = 'config';
export const COMPONENTS_FILE = 'config/components.yaml';
export const HARDWARE_DIR = 'config/hardware';
export const TEMPLATES_DIR = 'config/templates';
export const ENVIRONMENTS_DIR = 'environments';
export const EXPERIMENTS_DIR = 'experiments';
export const TUNING_DIR = 'tuning';

/** The top-level directories whose files are configuration (read from a working tree and from a commit). */
export const REPO_ROOTS: readonly string[] = [CONFIG_DIR, ENVIRONMENTS_DIR, SCHEMA_DIR, EXPERIMENTS_DIR, TUNING_DIR];

export const environmentFile = (env: string): string => `${ENVIRONMENTS_DIR}/${env}/environment.yaml`;
export const overridesFile = (env: string): string => `${ENVIRONMENTS_DIR}/${env}/overrides.yaml`;
export const secretsFile = (env: string): string => `${ENVIRONMENTS_DIR}/${env}/secrets.sops.yaml`;
export const deviceFile = (env: string, device: string): string => `${ENVIRONMENTS_DIR}/${env}/devices/${device}.yaml`;
export const hardwareProfileFile = (model: string): string => `${HARDWARE_DIR}/${model}.yaml`;
export const templateFile = (name: string): string => `${TEMPLATES_DIR}/${name}.yaml`;
export const experimentFile = (name: string): string => `${EXPERIMENTS_DIR}/${name}.yaml`;

/** Section files directly under config/ (components.yaml included). */
export function configSectionFiles(files: RepoFiles): string[] {
  return [...files.keys()].filter((f) => /^config\/[^/]+\.ya?ml$/.test(f)).sort();
}

export function listEnvironments(files: RepoFiles): string[] {
  const envs = new Set<string>();
  for (const f of files.keys()) {
    const m = /^environments\/([^/]+)\//.exec(f);
    if (m) envs.add(m[1]!);
  }
  return [...envs].sort();
}

export function listDevices(files: RepoFiles, env: string): string[] {
  const prefix = `${ENVIRONMENTS_DIR}/${env}/devices/`;
  return [...files.keys()]
    .filter((f) => f.startsWith(prefix) && /^[^/]+\.ya?ml$/.test(f.slice(prefix.length)))
    .map((f) => f.slice(prefix.length).replace(/\.ya?ml$/, ''))
    .sort();
}

export function listHardwareModels(files: RepoFiles): string[] {
  return [...files.keys()]
    .filter((f) => f.startsWith(HARDWARE_DIR + '/') && /^[^/]+\.ya?ml$/.test(f.slice(HARDWARE_DIR.length + 1)))
    .map((f) => f.slice(HARDWARE_DIR.length + 1).replace(/\.ya?ml$/, ''))
    .sort();
}

/** The files directly under experiments/ (experiments/<name>.yaml; any stem: validation checks the name). */
export function experimentFiles(files: RepoFiles): string[] {
  return [...files.keys()].filter((f) => /^experiments\/[^/]+\.ya?ml$/.test(f)).sort();
}

/** An experiment's name: its file's stem. */
export const experimentName = (file: string): string => file.slice(EXPERIMENTS_DIR.length + 1).replace(/\.ya?ml$/, '');

export function isYamlFile(path: string): boolean {
  return /\.ya?ml$/.test(path);
}
