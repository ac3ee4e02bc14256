export async function exportCommand(_args: string[]): Promise<number> { return 1; }
export async function importCommand(_args: string[]): Promise<number> { return 1; }
