// Conversations on disk, one JSON file per workspace (the extension's workspace storage), written atomically.
// A corrupt file is never lost: it is renamed to a backup, the store starts clean and says so once.
// No vscode import: the folder is passed in, so the store is unit-tested on a real temporary folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChatEntry, Conversation, ConversationSummary } from '../../protocol/chat';

const FILE_NAME = 'chat-history.json';
const FORMAT_VERSION = 1;
/** Most conversations kept; the oldest beyond this are dropped. */
const MAX_CONVERSATIONS = 200;

interface StoreFile {
  version: number;
  conversations: Conversation[];
}

function isConversation(value: unknown): value is Conversation {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Conversation>;
  return (
    typeof c.id === 'string' &&
    typeof c.title === 'string' &&
    typeof c.createdAt === 'number' &&
    typeof c.updatedAt === 'number' &&
    Array.isArray(c.entries) &&
    c.entries.every((e: Partial<ChatEntry>) => typeof e?.id === 'string' && (e.role === 'user' || e.role === 'assistant') && typeof e.content === 'string')
  );
}

export class HistoryStore {
  private readonly file: string;
  private conversations: Conversation[] = [];
  /** Set when loading found a corrupt file; shown once to the user. */
  notice: string | undefined;

  constructor(folder: string) {
    this.file = path.join(folder, FILE_NAME);
    fs.mkdirSync(folder, { recursive: true });
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return; // no history yet
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.conversations) || !parsed.conversations.every(isConversation)) {
        throw new Error('unexpected format');
      }
      this.conversations = parsed.conversations;
    } catch {
      const backup = `${this.file}.corrupt-${Date.now()}`;
      fs.renameSync(this.file, backup);
      this.notice = `The chat history file was unreadable; it was kept as ${path.basename(backup)} and a new history was started.`;
    }
  }

  list(): ConversationSummary[] {
    return [...this.conversations]
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt, messages: c.entries.length }));
  }

  get(id: string): Conversation | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  /** The most recently updated conversation. */
  latest(): Conversation | undefined {
    return this.conversations.reduce<Conversation | undefined>((best, c) => (!best || c.updatedAt > best.updatedAt ? c : best), undefined);
  }

  /** Saves (inserts or replaces) a conversation; empty conversations are not kept. */
  save(conversation: Conversation): void {
    const others = this.conversations.filter((c) => c.id !== conversation.id);
    this.conversations = conversation.entries.length ? [...others, conversation] : others;
    if (this.conversations.length > MAX_CONVERSATIONS) {
      this.conversations.sort((a, b) => b.updatedAt - a.updatedAt).length = MAX_CONVERSATIONS;
    }
    this.write();
  }

  delete(id: string): void {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.write();
  }

  private write(): void {
    const data: StoreFile = { version: FORMAT_VERSION, conversations: this.conversations };
    const temporary = `${this.file}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(data));
    fs.renameSync(temporary, this.file); // atomic: a crash mid-write leaves the old file intact
  }
}

/** A conversation's title: the first request, on one line, shortened. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New chat';
}
