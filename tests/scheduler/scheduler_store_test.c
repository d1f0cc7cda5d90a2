/*  Tests of the delivery records (sd_deliveries on a temporary SQLite
    file) and of the mail text (sd_mail_format).  */
#include "sd_deliveries.h"
#include "sd_lock.h"
#include "sd_mail.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sd_utf8.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static int s_setup(void **state)
{
    fixture *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->dir, sizeof self->dir, "/tmp/sd-scheduler-store-XXXXXX");
    assert_non_null(mkdtemp(self->dir));
    snprintf(self->path, sizeof self->path, "%s/scheduler.db", self->dir);
    *state = self;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *self = *state;
    char command[160];
    snprintf(command, sizeof command, "rm -rf '%s'", self->dir);
    assert_int_equal(system(command), 0);
    free(self);
    return 0;
}

static sd_date s_date(const char *text)
{
    sd_date date;
    assert_int_equal(sd_date_parse(text, &date), 0);
    return date;
}

//  A new delivery id is 32 lowercase hex digits, different each time.
static void delivery_ids_random_hex(void **state)
{
    (void)state;
    char first[SD_DELIVERY_ID_LENGTH + 1];
    char second[SD_DELIVERY_ID_LENGTH + 1];
    assert_int_equal(sd_delivery_id_new(first), 0);
    assert_int_equal(sd_delivery_id_new(second), 0);
    assert_int_equal(strlen(first), 32);
    assert_int_equal(strspn(first, "0123456789abcdef"), 32);
    assert_string_not_equal(first, second);
}

//  sending, then sent, survives closing and reopening the file.
static void sending_then_sent(void **state)
{
    fixture *self = *state;
    sd_deliveries *store = sd_deliveries_open(self->path);
    assert_non_null(store);
    sd_date end;
    assert_int_equal(sd_deliveries_last_end(store, "daily", &end), 0);

    assert_int_equal(sd_deliveries_begin(store, "daily", s_date("2026-12-01"), "aa11", 1000), 0);
    sd_delivery rows[4];
    assert_int_equal(sd_deliveries_pending(store, "daily", rows, 4), 1);
    assert_string_equal(rows[0].delivery_id, "aa11");
    assert_int_equal(sd_deliveries_last_end(store, "daily", &end), 1);
    assert_int_equal(sd_date_compare(end, s_date("2026-12-01")), 0);

    //  A reply for another delivery id leaves the row alone.
    assert_int_equal(sd_deliveries_mark_sent(store, "daily", s_date("2026-12-01"), "bb22", 2000),
                     0);
    assert_int_equal(sd_deliveries_mark_sent(store, "daily", s_date("2026-12-01"), "aa11", 2000),
                     1);
    sd_deliveries_destroy(&store);
    assert_null(store);

    store = sd_deliveries_open(self->path);
    assert_non_null(store);
    sd_delivery row;
    assert_int_equal(sd_deliveries_get(store, "daily", s_date("2026-12-01"), &row), 1);
    assert_int_equal(row.state, SD_DELIVERY_SENT);
    assert_string_equal(row.delivery_id, "aa11");
    assert_int_equal(row.created_ms, 1000);
    assert_int_equal(row.updated_ms, 2000);
    assert_int_equal(sd_deliveries_pending(store, "daily", rows, 4), 0);
    //  Other reports have their own records.
    assert_int_equal(sd_deliveries_last_end(store, "weekly", &end), 0);
    sd_deliveries_destroy(&store);
}

//  A row left "sending" by a stopped scheduler is found again after a
//  restart, with the delivery id it was sent with.
static void crash_keeps_delivery_id(void **state)
{
    fixture *self = *state;
    sd_deliveries *store = sd_deliveries_open(self->path);
    assert_non_null(store);
    assert_int_equal(sd_deliveries_begin(store, "daily", s_date("2026-11-30"), "c0ffee", 1), 0);
    assert_int_equal(sd_deliveries_begin(store, "daily", s_date("2026-11-29"), "beef", 1), 0);
    sd_deliveries_destroy(&store);

    store = sd_deliveries_open(self->path);
    assert_non_null(store);
    sd_delivery rows[4];
    assert_int_equal(sd_deliveries_pending(store, "daily", rows, 4), 2);
    assert_int_equal(sd_date_compare(rows[0].period_end, s_date("2026-11-29")), 0);
    assert_string_equal(rows[0].delivery_id, "beef");
    assert_string_equal(rows[1].delivery_id, "c0ffee");
    sd_deliveries_destroy(&store);
}

//  Skip marks a period without sending it; resend replaces the delivery id.
static void skip_and_resend(void **state)
{
    fixture *self = *state;
    sd_deliveries *store = sd_deliveries_open(self->path);
    assert_non_null(store);
    sd_date day = s_date("2026-12-01");
    assert_int_equal(sd_deliveries_skip(store, "daily", day, 5), 0);
    sd_delivery row;
    assert_int_equal(sd_deliveries_get(store, "daily", day, &row), 1);
    assert_int_equal(row.state, SD_DELIVERY_SKIPPED);
    sd_date end;
    assert_int_equal(sd_deliveries_last_end(store, "daily", &end), 1);

    assert_int_equal(sd_deliveries_begin(store, "daily", day, "new1", 6), 0);
    assert_int_equal(sd_deliveries_get(store, "daily", day, &row), 1);
    assert_int_equal(row.state, SD_DELIVERY_SENDING);
    assert_string_equal(row.delivery_id, "new1");
    assert_int_equal(row.created_ms, 5);
    assert_int_equal(sd_deliveries_mark_sent(store, "daily", day, "new1", 7), 1);
    assert_int_equal(sd_deliveries_skip(store, "daily", day, 8), 0);
    assert_int_equal(sd_deliveries_get(store, "daily", day, &row), 1);
    assert_int_equal(row.state, SD_DELIVERY_SKIPPED);
    sd_deliveries_destroy(&store);
}

//  A second lock on the same file fails and names the holder's pid.
static void lock_names_holder(void **state)
{
    fixture *self = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/scheduler.lock", self->dir);
    char error[600];
    sd_lock *first = sd_lock_acquire(path, error, sizeof error);
    assert_non_null(first);
    sd_lock *second = sd_lock_acquire(path, error, sizeof error);
    assert_null(second);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_non_null(strstr(error, pid));
    assert_non_null(strstr(error, path));
    sd_lock_release(&first);
    assert_null(first);
    second = sd_lock_acquire(path, error, sizeof error);
    assert_non_null(second);
    sd_lock_release(&second);
}

static const char *const s_recipients[] = {"ops@example.com", "dev@example.com"};

static sd_mail_message s_message(const char *subject, const char *text)
{
    sd_mail_message message = {
        .from = "statsdash@example.com",
        .recipients = s_recipients,
        .recipient_count = 2,
        .subject = subject,
        .text = text,
    };
    return message;
}

//  The headers of an ASCII mail, and CRLF line ends in the body.
static void mail_headers_ascii(void **state)
{
    (void)state;
    char error[300];
    int64_t ms = 0;
    assert_int_equal(sd_time_parse("2026-12-02T18:00:05Z", &ms), 0);
    sd_mail_message message = s_message("Statsdash: 2 problems", "line one\nline two\n.dot\n");
    char *text = sd_mail_format(&message, ms, error, sizeof error);
    assert_non_null(text);
    assert_non_null(strstr(text, "Date: Wed, 02 Dec 2026 18:00:05 +0000\r\n"));
    assert_non_null(strstr(text, "\r\nFrom: statsdash@example.com\r\n"));
    assert_non_null(strstr(text, "\r\nTo: ops@example.com,\r\n dev@example.com\r\n"));
    assert_non_null(strstr(text, "\r\nSubject: Statsdash: 2 problems\r\n"));
    assert_non_null(strstr(text, "@example.com>\r\n"));
    assert_int_equal(strncmp(strstr(text, "Message-ID: <"), "Message-ID: <", 13), 0);
    assert_non_null(strstr(text, "\r\n\r\nline one\r\nline two\r\n.dot\r\n"));
    //  No bare LF anywhere.
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            assert_int_equal(p[-1], '\r');
    }
    free(text);
}

//  A non-ASCII subject becomes RFC 2047 encoded words that split no
//  character and stay within 75 characters.
static void mail_subject_encoded(void **state)
{
    (void)state;
    char error[300];
    //  "Données manquantes" (French for missing data) repeated: 4 x 19 bytes.
    const char *subject = "Donn\xc3\xa9" "es manquantes Donn\xc3\xa9" "es manquantes "
                          "Donn\xc3\xa9" "es manquantes Donn\xc3\xa9" "es manquantes";
    sd_mail_message message = s_message(subject, "body");
    char *text = sd_mail_format(&message, 0, error, sizeof error);
    assert_non_null(text);
    char *start = strstr(text, "Subject: ");
    assert_non_null(start);
    char *end = strstr(start, "\r\nMIME-Version");
    assert_non_null(end);

    //  Decode every word and join them: the result is the subject.
    char decoded[256] = "";
    size_t decoded_length = 0;
    for (char *word = strstr(start, "=?UTF-8?B?"); word && word < end;
         word = strstr(word + 1, "=?UTF-8?B?")) {
        char *close = strstr(word + 10, "?=");
        assert_non_null(close);
        assert_true(close + 2 - word <= 75);
        unsigned char bytes[128];
        int length = EVP_DecodeBlock(bytes, (const unsigned char *)word + 10, (int)(close - word - 10));
        assert_true(length > 0);
        //  EVP_DecodeBlock counts the bytes that '=' padding stands for.
        int padding = (close[-1] == '=') + (close[-2] == '=');
        memcpy(decoded + decoded_length, bytes, (size_t)(length - padding));
        decoded_length += (size_t)(length - padding);
        //  Each word must hold whole UTF-8 characters.
        assert_true(sd_utf8_valid((const char *)bytes, (size_t)(length - padding), false, NULL));
    }
    decoded[decoded_length] = '\0';
    assert_string_equal(decoded, subject);
    free(text);
}

//  CR or LF in a header value, and invalid addresses, are rejected.
static void mail_rejects_header_injection(void **state)
{
    (void)state;
    char error[300];
    sd_mail_message message = s_message("hello\r\nBcc: victim@example.com", "body");
    assert_null(sd_mail_format(&message, 0, error, sizeof error));
    assert_non_null(strstr(error, "line break"));
    message = s_message("hello\nX: y", "body");
    assert_null(sd_mail_format(&message, 0, error, sizeof error));

    const char *const bad[] = {"ops@example.com\r\nBcc: x@example.com"};
    message = s_message("hello", "body");
    message.recipients = bad;
    message.recipient_count = 1;
    assert_null(sd_mail_format(&message, 0, error, sizeof error));
    assert_non_null(strstr(error, "invalid recipient"));

    message = s_message("hello", "body");
    message.from = "statsdash <x@example.com>";
    assert_null(sd_mail_format(&message, 0, error, sizeof error));
    assert_non_null(strstr(error, "invalid sender"));

    message = s_message("hello", "body");
    message.recipient_count = 0;
    assert_null(sd_mail_format(&message, 0, error, sizeof error));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivery_ids_random_hex),
        cmocka_unit_test_setup_teardown(sending_then_sent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(crash_keeps_delivery_id, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(skip_and_resend, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(lock_names_holder, s_setup, s_teardown),
        cmocka_unit_test(mail_headers_ascii),
        cmocka_unit_test(mail_subject_encoded),
        cmocka_unit_test(mail_rejects_header_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
