import { attentionSuite } from './attention.test';
import { chatSuite } from './chat.test';
import { completionSuite } from './completion.test';
import { editSuite } from './edit.test';
import { engineSuite } from './engine.test';
import { mentionsSuite } from './mentions.test';
import { modelsSuite } from './models.test';
import { networkSuite } from './network.test';
import { serversSuite } from './servers.test';
import { keybindingsSuite } from './keybindings.test';
import { surpriseSuite } from './surprise.test';

/** Each suite registers its describe/it blocks when called (after mocha has set up its globals). */
export const suites: Array<() => void> = [engineSuite, chatSuite, completionSuite, attentionSuite, modelsSuite, serversSuite, surpriseSuite, editSuite, mentionsSuite, keybindingsSuite, networkSuite];
