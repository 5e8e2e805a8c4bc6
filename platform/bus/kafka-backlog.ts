import type { Admin } from 'kafkajs';
import type { BusBacklog, ConsumerLag } from './backlog.ts';
import type { TopicNames } from './kafka-topics.ts';

/**
 * Lag from the broker's own numbers: each partition's end offset against the group's committed offset (a
 * group that never committed has the whole retained log ahead of it). Groups are found by their id, which
 * `kafkaGroupId` makes `<main topic>.<group>`.
 */
export function createKafkaBacklog(admin: Admin, names: (topic: string) => TopicNames): BusBacklog {
  return {
    async consumerLag(topics) {
      const { groups } = await admin.listGroups();
      const lag: ConsumerLag[] = [];
      for (const topic of topics) {
        const { main } = names(topic);
        const prefix = `${main}.`;
        const members = groups.filter((g) => g.groupId.startsWith(prefix));
        if (members.length === 0) continue;
        const ends = new Map(
          (await admin.fetchTopicOffsets(main)).map((p) => [p.partition, { low: p.low, high: p.high }]),
        );
        for (const { groupId } of members) {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [main] });
          for (const p of committed?.partitions ?? []) {
            const end = ends.get(p.partition);
            if (!end) continue;
            const from = Number(p.offset) >= 0 ? Number(p.offset) : Number(end.low);
            lag.push({
              topic,
              group: groupId.slice(prefix.length),
              partition: p.partition,
              messages: Math.max(0, Number(end.high) - from),
            });
          }
        }
      }
      return lag;
    },
  };
}
