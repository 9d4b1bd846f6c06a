import { tempMetadata } from '../fixtures.ts'
import { describeMetadataCompliance } from './metadata-store-compliance.ts'

describeMetadataCompliance('node:sqlite', () => {
  const temp = tempMetadata()
  return { metadata: temp.metadata, dispose: () => temp[Symbol.dispose]() }
})
