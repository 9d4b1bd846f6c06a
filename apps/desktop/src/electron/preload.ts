// The window's preload: the UI needs nothing from Electron (it talks only to the agent's API),
// so all it learns is that it runs in the desktop shell.
import { contextBridge } from 'electron'

contextBridge.exposeInMainWorld('aerieDesktop', { shell: 'electron' })
