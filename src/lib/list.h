/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intrusive doubly linked lists: a struct list_node inside each object, a
 * plain struct list_node * as the head (NULL: empty). The engine's objects
 * (sessions, DNS forwards, UDP associations) each live on their owner's
 * live list and move to its dead list when they end, to be freed after the
 * loop batch.
 */
#ifndef PROXYVPN_LIST_H
#define PROXYVPN_LIST_H

#include <stddef.h>

struct list_node {
	struct list_node *next, *prev;
};

/* The object holding node n (n not NULL). */
#define list_entry(n, type, member) ((type *)(void *)((char *)(n)-offsetof(type, member)))

static inline void list_add(struct list_node **head, struct list_node *n)
{
	n->prev = NULL;
	n->next = *head;
	if (*head)
		(*head)->prev = n;
	*head = n;
}

static inline void list_del(struct list_node **head, struct list_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		*head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* From one list to another (live to dead). */
static inline void list_move(struct list_node **from, struct list_node **to, struct list_node *n)
{
	list_del(from, n);
	list_add(to, n);
}

#endif
