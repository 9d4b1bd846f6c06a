// Lint: typescript-eslint's recommended rules plus the layering rules from DESIGN.md:
// core never imports an app, and core's lower layers never import higher ones.
import tseslint from 'typescript-eslint'

const lowerLayers = ['pki', 'chunking', 'store']
const higherLayers = ['sync', 'backup', 'net', 'protocol', 'share', 'scan', 'index']

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    files: ['packages/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aerie/desktop', '@aerie/server', '**/apps/**'], message: 'core never imports an app' }] }]
    }
  },
  ...lowerLayers.map(layer => ({
    files: [`packages/core/src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@aerie/desktop', '@aerie/server', '**/apps/**'], message: 'core never imports an app' },
          { group: higherLayers.map(h => `../${h}/*`), message: `${layer} is a lower layer and must not import a higher one` }
        ]
      }]
    }
  }))
)
