ALTER TABLE `notices` ADD `delivery` text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE `notices` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `notices` ADD `next_attempt_at` text;--> statement-breakpoint
ALTER TABLE `notices` ADD `delivered_at` text;--> statement-breakpoint
ALTER TABLE `notices` ADD `last_error` text;--> statement-breakpoint
CREATE INDEX `notices_delivery_due` ON `notices` (`delivery`,`next_attempt_at`);