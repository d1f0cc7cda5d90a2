/*  sd_mail: RFC 5322 text mail, sent with libcurl's SMTP client.  */
#include "sd_mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sd_period.h"
#include "sd_utf8.h"

//  RFC 5322 limits a line to 998 octets before its CRLF.
#define S_MAX_LINE 998
//  Bytes of UTF-8 text per encoded word: 45 bytes give 60 base64
//  characters, so "=?UTF-8?B?...?=" stays within RFC 2047's 75.
#define S_WORD_BYTES 45
#define S_DEFAULT_TIMEOUT_MS 60000L
#define S_MAX_PASSWORD_BYTES 4096

//  A growing text buffer; failed is set once an append ran out of memory.
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    bool failed;
} s_text;

static void s_append(s_text *text, const char *bytes, size_t length)
{
    if (text->failed)
        return;
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = (text->length + length + 1) * 2;
        char *data = realloc(text->data, capacity);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->capacity = capacity;
    }
    memcpy(text->data + text->length, bytes, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static void s_append_string(s_text *text, const char *string)
{
    s_append(text, string, strlen(string));
}

__attribute__((format(printf, 2, 3))) static void s_append_format(s_text *text, const char *format,
                                                                  ...)
{
    char line[256];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line)
        text->failed = true;
    else
        s_append(text, line, (size_t)length);
}

//  Returns true when address is a plain ASCII address "local@domain" with
//  nothing that could break a header or an SMTP command.
static bool s_address_valid(const char *address)
{
    const char *at = address ? strchr(address, '@') : NULL;
    if (!at || at == address || at[1] == '\0' || strchr(at + 1, '@') || strlen(address) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)address; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("<>()[],;:\\\"", *p))
            return false;
    }
    return true;
}

static bool s_is_ascii(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x80)
            return false;
    }
    return true;
}

//  Checks every address and the subject. Returns 0, or -1 with error filled.
static int s_check(const sd_mail_message *message, char *error, size_t size)
{
    if (!s_address_valid(message->from)) {
        snprintf(error, size, "invalid sender address \"%.100s\"; expected local@domain in ASCII",
                 message->from ? message->from : "");
        return -1;
    }
    if (message->reply_to && !s_address_valid(message->reply_to)) {
        snprintf(error, size, "invalid Reply-To address \"%.100s\"", message->reply_to);
        return -1;
    }
    if (message->recipient_count == 0) {
        snprintf(error, size, "no recipients; give at least one address");
        return -1;
    }
    for (size_t i = 0; i < message->recipient_count; i++) {
        if (!s_address_valid(message->recipients[i])) {
            snprintf(error, size,
                     "invalid recipient address \"%.100s\"; expected local@domain "
                     "in ASCII",
                     message->recipients[i] ? message->recipients[i] : "");
            return -1;
        }
    }
    const char *subject = message->subject ? message->subject : "";
    if (strpbrk(subject, "\r\n")) {
        snprintf(error, size, "the subject contains a line break; give it on one line");
        return -1;
    }
    if (!sd_utf8_valid(subject, strlen(subject), false, NULL) || !message->text ||
        !sd_utf8_valid(message->text, strlen(message->text), false, NULL)) {
        snprintf(error, size, "the subject or the body is not valid UTF-8 text");
        return -1;
    }
    return 0;
}

static void s_append_date(s_text *text, int64_t now_ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t seconds = (time_t)(now_ms / 1000);
    struct tm utc;
    if (!gmtime_r(&seconds, &utc)) {
        text->failed = true;
        return;
    }
    s_append_format(text, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[utc.tm_wday],
                    utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                    utc.tm_sec);
}

static void s_append_message_id(s_text *text, const char *from, int64_t now_ms)
{
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        text->failed = true;
        return;
    }
    s_append_format(text, "Message-ID: <%" PRId64 ".", now_ms);
    for (size_t i = 0; i < sizeof bytes; i++)
        s_append_format(text, "%02x", bytes[i]);
    s_append_format(text, "@%s>\r\n", strchr(from, '@') + 1);
}

//  Returns how many bytes of text (at most S_WORD_BYTES) make up whole
//  UTF-8 characters, so that no encoded word splits a character.
static size_t s_word_length(const char *text, size_t left)
{
    size_t length = left < S_WORD_BYTES ? left : S_WORD_BYTES;
    while (length < left && length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
        length--;
    return length;
}

//  Appends subject as encoded words, one per folded line.
static void s_append_encoded(s_text *text, const char *subject)
{
    size_t left = strlen(subject);
    bool first = true;
    while (left > 0) {
        size_t length = s_word_length(subject, left);
        unsigned char base64[4 * ((S_WORD_BYTES + 2) / 3) + 1];
        EVP_EncodeBlock(base64, (const unsigned char *)subject, (int)length);
        s_append_format(text, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", (const char *)base64);
        first = false;
        subject += length;
        left -= length;
    }
}

static void s_append_headers(s_text *text, const sd_mail_message *message, int64_t now_ms)
{
    s_append_date(text, now_ms);
    s_append_message_id(text, message->from, now_ms);
    s_append_format(text, "From: %s\r\nTo: ", message->from);
    for (size_t i = 0; i < message->recipient_count; i++) {
        s_append_string(text, message->recipients[i]);
        s_append_string(text, i + 1 < message->recipient_count ? ",\r\n " : "\r\n");
    }
    if (message->reply_to)
        s_append_format(text, "Reply-To: %s\r\n", message->reply_to);

    //  ASCII subjects stay readable; a long one is still one header line,
    //  and the line limit keeps within RFC 5322's 998 octets.
    const char *subject = message->subject ? message->subject : "";
    s_append_string(text, "Subject: ");
    if (s_is_ascii(subject) && strlen(subject) <= S_MAX_LINE - 9)
        s_append_string(text, subject);
    else
        s_append_encoded(text, subject);
    s_append_string(text, "\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n");
}

//  Appends the body with CRLF line ends, breaking lines longer than
//  S_MAX_LINE octets. libcurl escapes lines that start with a dot.
static void s_append_body(s_text *text, const char *body)
{
    size_t column = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r' || column == S_MAX_LINE) {
            s_append(text, "\r\n", 2);
            column = 0;
            if (*p == '\n' || *p == '\r')
                continue;
        }
        s_append(text, p, 1);
        column++;
    }
    if (column > 0)
        s_append(text, "\r\n", 2);
}

char *sd_mail_format(const sd_mail_message *message, int64_t now_ms, char *error, size_t size)
{
    if (s_check(message, error, size) != 0)
        return NULL;
    s_text text = {0};
    s_append_headers(&text, message, now_ms);
    s_append_body(&text, message->text);
    if (text.failed) {
        snprintf(error, size, "out of memory while formatting the mail");
        free(text.data);
        return NULL;
    }
    return text.data;
}

//  Feeds the message to libcurl.
typedef struct {
    const char *data;
    size_t left;
} s_upload;

static size_t s_read(char *buffer, size_t size, size_t count, void *arg)
{
    s_upload *upload = arg;
    size_t length = size * count < upload->left ? size * count : upload->left;
    memcpy(buffer, upload->data, length);
    upload->data += length;
    upload->left -= length;
    return length;
}

//  Sets the options of one transfer. Returns CURLE_OK or the first error.
static CURLcode s_configure(CURL *curl, const sd_mail_server *server,
                            const sd_mail_message *message, struct curl_slist *recipients,
                            s_upload *upload, char *curl_error)
{
    char sender[300];
    snprintf(sender, sizeof sender, "<%s>", message->from);
    CURLcode rc = CURLE_OK;
    long timeout_ms = server->timeout_ms > 0 ? server->timeout_ms : S_DEFAULT_TIMEOUT_MS;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_URL, server->url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_MAIL_FROM, sender);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_READFUNCTION, s_read);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_READDATA, upload);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    if (rc == CURLE_OK && server->starttls)
        rc = curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (rc == CURLE_OK && server->user && server->password)
        rc = curl_easy_setopt(curl, CURLOPT_USERNAME, server->user);
    if (rc == CURLE_OK && server->user && server->password)
        rc = curl_easy_setopt(curl, CURLOPT_PASSWORD, server->password);
    return rc;
}

//  Lists the envelope recipients as "<address>". Returns NULL when out of
//  memory.
static struct curl_slist *s_recipient_list(const sd_mail_message *message)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < message->recipient_count; i++) {
        char item[300];
        snprintf(item, sizeof item, "<%s>", message->recipients[i]);
        struct curl_slist *next = curl_slist_append(list, item);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

int sd_mail_send(const sd_mail_server *server, const sd_mail_message *message, char *error,
                 size_t size)
{
    if (!server->url || !*server->url) {
        snprintf(error, size, "no SMTP server configured; set smtp.url");
        return -1;
    }
    char *text = sd_mail_format(message, sd_now_ms(), error, size);
    if (!text)
        return -1;
    s_upload upload = {text, strlen(text)};
    char curl_error[CURL_ERROR_SIZE] = "";
    struct curl_slist *recipients = s_recipient_list(message);
    CURL *curl = recipients ? curl_easy_init() : NULL;
    CURLcode rc = curl ? s_configure(curl, server, message, recipients, &upload, curl_error)
                       : CURLE_OUT_OF_MEMORY;
    if (rc == CURLE_OK)
        rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        snprintf(error, size, "sending mail through %s failed: %s", server->url,
                 *curl_error ? curl_error : curl_easy_strerror(rc));
    if (curl)
        curl_easy_cleanup(curl);
    curl_slist_free_all(recipients);
    free(text);
    return rc == CURLE_OK ? 0 : -1;
}

char *sd_mail_read_password(const char *path, char *error, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        snprintf(error, size, "cannot read the SMTP password file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *password = NULL;
    if (info.st_mode & (S_IRWXG | S_IRWXO))
        snprintf(error, size,
                 "the SMTP password file %s is accessible by group or others; run "
                 "chmod 600 %s",
                 path, path);
    else if (info.st_size > S_MAX_PASSWORD_BYTES)
        snprintf(error, size, "the SMTP password file %s is larger than %d bytes", path,
                 S_MAX_PASSWORD_BYTES);
    else if (!(password = calloc(1, (size_t)info.st_size + 1)))
        snprintf(error, size, "out of memory while reading %s", path);
    else if (read(fd, password, (size_t)info.st_size) != info.st_size) {
        snprintf(error, size, "cannot read the SMTP password file %s", path);
        free(password);
        password = NULL;
    }
    close(fd);
    if (password) {
        size_t length = strlen(password);
        if (length > 0 && password[length - 1] == '\n')
            password[--length] = '\0';
        if (length > 0 && password[length - 1] == '\r')
            password[length - 1] = '\0';
    }
    return password;
}
