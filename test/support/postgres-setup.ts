import { afterAll } from 'vitest';
import { closeTestStores } from './store-choice.ts';

// Every test file of the vitest project `postgres`: the databases it made are dropped after it.
afterAll(closeTestStores);
