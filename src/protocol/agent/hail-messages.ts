/**
 * Hail on the wire: the four messages peers exchange for it, what agent input each one
 * received stands for, and which messages each hail command sends. The simulator and the
 * real node (over the mesh's direct channel) carry exactly these, so both drive the agent
 * alike and neither keeps its own copy of the mapping.
 */
import type { HailAnswer, LeaseRef } from '../liveness.js'
import type { AgentCommand, AgentInput } from './types.js'

export type HailMessage =
  /** "Are you rendering `lease`?" */
  | { readonly type: 'hail', readonly nonce: number, readonly lease: LeaseRef }
  | { readonly type: 'hail-answer', readonly nonce: number, readonly answer: HailAnswer }
  /** "Please hail `target` about `lease` for me." */
  | { readonly type: 'indirect-hail', readonly nonce: number, readonly target: string, readonly lease: LeaseRef }
  | { readonly type: 'indirect-answer', readonly nonce: number, readonly target: string, readonly answer: HailAnswer }

export interface ReceivedHail {
  readonly input: AgentInput
  /**
   * An answer says how long its holder's feed is; where we hold less, the driver pulls
   * before it trusts a "no": the holder's log may already say what became of the block.
   */
  readonly feed: { readonly author: string, readonly feedSeq: number } | null
}

/** The agent input for a hail message from `from`; `heldSeq(author)` is how much of that feed we hold. */
export function receivedHail (from: string, nowMs: number, message: HailMessage, heldSeq: (author: string) => number): ReceivedHail {
  switch (message.type) {
    case 'hail':
      return { input: { kind: 'hail-received', from, nowMs, nonce: message.nonce, lease: message.lease }, feed: null }
    case 'hail-answer':
      return {
        input: { kind: 'hail-answered', from, nowMs, nonce: message.nonce, answer: message.answer, heldSeq: heldSeq(from) },
        feed: { author: from, feedSeq: message.answer.feedSeq }
      }
    case 'indirect-hail':
      return { input: { kind: 'indirect-hail-requested', from, nowMs, target: message.target, nonce: message.nonce, lease: message.lease }, feed: null }
    case 'indirect-answer':
      return {
        input: { kind: 'indirect-hail-answered', from, nowMs, target: message.target, nonce: message.nonce, answer: message.answer, heldSeq: heldSeq(message.target) },
        feed: { author: message.target, feedSeq: message.answer.feedSeq }
      }
  }
}

export type HailCommand = Extract<AgentCommand, { kind: 'answer-hail' | 'send-hail' | 'send-indirect-hail' | 'send-indirect-answer' }>

export function isHailCommand (command: AgentCommand): command is HailCommand {
  return command.kind === 'answer-hail' || command.kind === 'send-hail' || command.kind === 'send-indirect-hail' || command.kind === 'send-indirect-answer'
}

/** The messages a hail command sends, and to whom; `ownFeedSeq` is how long our own feed is. */
export function hailMessagesOf (command: HailCommand, ownFeedSeq: number): { readonly to: string, readonly message: HailMessage }[] {
  switch (command.kind) {
    case 'answer-hail':
      return [{ to: command.to, message: { type: 'hail-answer', nonce: command.nonce, answer: { rendering: command.rendering, feedSeq: ownFeedSeq } } }]
    case 'send-hail':
      return [{ to: command.to, message: { type: 'hail', nonce: command.nonce, lease: command.lease } }]
    case 'send-indirect-hail':
      return command.via.map((via) => ({ to: via, message: { type: 'indirect-hail', nonce: command.nonce, target: command.target, lease: command.lease } }))
    case 'send-indirect-answer':
      return [{ to: command.to, message: { type: 'indirect-answer', nonce: command.nonce, target: command.target, answer: command.answer } }]
  }
}
